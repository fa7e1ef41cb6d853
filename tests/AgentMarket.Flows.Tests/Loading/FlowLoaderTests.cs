using System.Text;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Tests.Loading;

/// <summary>Reading exports: both shapes, handles, notes, ids, component kinds (format §1, §9).</summary>
public class FlowLoaderTests
{
    static LoadResult Load(string json) => FlowLoader.Load(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void WholeExportAndBareGraph_LoadTheSame()
    {
        var export = JsonNode.Parse(Examples.Bytes(Examples.SimpleApiTest))!;
        var bare = export["data"]!.ToJsonString();

        var fromExport = FlowLoader.Load(Examples.Bytes(Examples.SimpleApiTest)).Definition!;
        var fromBare = Load(bare).Definition!;

        Assert.Equal(fromExport.Nodes.Select(node => node.Id), fromBare.Nodes.Select(node => node.Id));
        Assert.Equal(fromExport.Edges.Select(edge => (edge.Source, edge.SourceOutput, edge.Target, edge.TargetField)), fromBare.Edges.Select(edge => (edge.Source, edge.SourceOutput, edge.Target, edge.TargetField)));
        Assert.Null(fromBare.Id);
        Assert.Equal("1e3eea9b-d466-4fba-b0d9-08901143df3e", fromExport.Id);
    }

    [Fact]
    public void NoteNodes_AreIgnored_AndCounted()
    {
        var flow = FlowLoader.Load(Examples.Bytes(Examples.VectorStoreRag)).Definition!;

        Assert.Equal(11, flow.Nodes.Length);
        Assert.Equal(6, flow.NoteCount);
        Assert.DoesNotContain(flow.Nodes, node => node.Id.StartsWith("note", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{œdataTypeœ: œChatInputœ, œidœ: œChatInput-1œ, œnameœ: œmessageœ, œoutput_typesœ: [œMessageœ]}", "{œfieldNameœ: œinput_valueœ, œidœ: œChatOutput-1œ, œinputTypesœ: [œMessageœ], œtypeœ: œstrœ}")]
    [InlineData("{œdataTypeœ:œChatInputœ,œidœ:œChatInput-1œ,œnameœ:œmessageœ,œoutput_typesœ:[œMessageœ]}", "{œfieldNameœ:œinput_valueœ,œidœ:œChatOutput-1œ,œinputTypesœ:[œMessageœ],œtypeœ:œstrœ}")]
    public void EncodedHandleStrings_AreDecodedInBothSpacings(string sourceHandle, string targetHandle)
    {
        var json = $$"""
            {"nodes": [], "edges": [{"source": "ChatInput-1", "target": "ChatOutput-1", "sourceHandle": "{{sourceHandle}}", "targetHandle": "{{targetHandle}}"}]}
            """;

        var edge = Assert.Single(Load(json).Definition!.Edges);

        Assert.Equal((HandleFormat.EncodedString, "message", "input_value"), (edge.Format, edge.SourceOutput, edge.TargetField));
        Assert.Equal(["Message"], edge.SourceTypes);
    }

    [Fact]
    public void DataHandles_AreAuthoritative_AndEqualTheEncodedStringsInEveryExample()
    {
        foreach (var example in Examples.All.Where(example => example != Examples.LegacyChat))
        {
            var export = JsonNode.Parse(Examples.Bytes(example))!;
            foreach (var edge in export["data"]!["edges"]!.AsArray().Where(edge => edge!["sourceHandle"] is not null))
            {
                foreach (var handle in new[] { "sourceHandle", "targetHandle" })
                {
                    var decoded = FlowLoader.DecodeHandle((string?)edge![handle]);
                    Assert.NotNull(decoded);
                    Assert.True(JsonNode.DeepEquals(JsonNode.Parse(decoded.Value.GetRawText()), edge["data"]![handle]), $"{example}: {edge["id"]}");
                }
            }
        }
    }

    [Fact]
    public void NodeIds_AreKeptVerbatim_IncludingSpaces()
    {
        var json = """{"nodes": [{"id": "Prompt Template-5IRi7", "data": {"type": "Prompt Template", "node": {"template": {}, "outputs": []}}}], "edges": []}""";

        var node = Assert.Single(Load(json).Definition!.Nodes);

        Assert.Equal(("Prompt Template-5IRi7", "Prompt Template"), (node.Id, node.IdPrefix));
    }

    [Theory]
    [InlineData("""{"metadata": {"module": "lfx.components.processing.parser.ParserComponent"}}""", "Whatever", "Parser")]
    [InlineData("""{"template": {"code": {"value": "from x import y\n\nclass Helper:\n    pass\n\nclass URLComponent(Component):\n    pass"}}}""", "Mystery", "URL")]
    [InlineData("{}", "parser", "Parser")]
    [InlineData("{}", "ParserComponent", "Parser")]
    [InlineData("{}", "URL", "URL")]
    [InlineData("{}", "Prompt Template", "Prompt")]
    [InlineData("{}", "OpenAIModel", "LanguageModel")]
    [InlineData("{}", "TavilySearchComponent", null)]
    public void ComponentKinds_AreFoundByModuleThenCodeThenType(string nodeExtras, string type, string? component)
    {
        var node = JsonNode.Parse(nodeExtras)!.AsObject();
        node["template"] ??= new JsonObject();
        node["outputs"] = new JsonArray();
        var json = new JsonObject { ["nodes"] = new JsonArray(new JsonObject { ["id"] = "n-1", ["data"] = new JsonObject { ["type"] = type, ["node"] = node } }), ["edges"] = new JsonArray() }.ToJsonString();

        var definition = Assert.Single(Load(json).Definition!.Nodes);

        Assert.Equal(component, BuiltInComponents.Registry.Find(definition)?.Spec.Name);
    }

    [Theory]
    [InlineData("not json at all", IssueCodes.InvalidJson)]
    [InlineData("[1, 2, 3]", IssueCodes.NotAFlow)]
    [InlineData("""{"name": "no graph"}""", IssueCodes.NotAFlow)]
    [InlineData("""{"data": {"nodes": []}}""", IssueCodes.NotAFlow)]
    [InlineData("""{"nodes": [{"id": "a", "data": {"type": "X", "node": {}}}, {"id": "a", "data": {"type": "X", "node": {}}}], "edges": []}""", IssueCodes.DuplicateNodeId)]
    [InlineData("""{"nodes": [{"data": {}}], "edges": [{"source": "a"}]}""", IssueCodes.InvalidNode)]
    public void BrokenInput_BecomesIssues(string json, string code)
    {
        var report = FlowEngine.Default.Validate(json);

        Assert.False(report.Runnable);
        Assert.Contains(report.Issues, issue => issue.Code == code);
    }

    [Fact]
    public void DeepNesting_IsReportedNotThrown()
    {
        var deep = new string('[', 100_000) + new string(']', 100_000);

        var report = FlowEngine.Default.Validate(deep);

        Assert.Equal(IssueCodes.InvalidJson, Assert.Single(report.Issues).Code);
    }

    [Fact]
    public void FiftyMegabytes_IsRefusedQuickly()
    {
        var huge = new byte[50 * 1024 * 1024];
        Array.Fill(huge, (byte)' ');
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var report = FlowEngine.Default.Validate(huge);

        Assert.Equal(IssueCodes.FlowTooLarge, Assert.Single(report.Issues).Code);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void HugeGraphs_AreRefusedQuickly_AndLargeOnesValidatedFast()
    {
        static string Chain(int count) => new JsonObject
        {
            ["nodes"] = new JsonArray([.. Enumerable.Range(0, count).Select(index => (JsonNode)new JsonObject
            {
                ["id"] = $"Prompt-{index}",
                ["data"] = new JsonObject
                {
                    ["type"] = "Prompt",
                    ["node"] = new JsonObject
                    {
                        ["template"] = new JsonObject { ["template"] = new JsonObject { ["type"] = "prompt", ["value"] = "{x}" }, ["x"] = new JsonObject { ["type"] = "str", ["value"] = "", ["input_types"] = new JsonArray("Message") } },
                        ["outputs"] = new JsonArray(new JsonObject { ["name"] = "prompt", ["types"] = new JsonArray("Message") }),
                    },
                },
            })]),
            ["edges"] = new JsonArray([.. Enumerable.Range(1, count - 1).Select(index => (JsonNode)new JsonObject
            {
                ["source"] = $"Prompt-{index - 1}",
                ["target"] = $"Prompt-{index}",
                ["data"] = new JsonObject
                {
                    ["sourceHandle"] = new JsonObject { ["name"] = "prompt", ["output_types"] = new JsonArray("Message") },
                    ["targetHandle"] = new JsonObject { ["fieldName"] = "x", ["inputTypes"] = new JsonArray("Message") },
                },
            })]),
        }.ToJsonString();
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var tooMany = FlowEngine.Default.Validate(Chain(FlowLoader.MaxNodes + 1));
        var many = FlowEngine.Default.Validate(Chain(FlowLoader.MaxNodes));

        Assert.Equal(IssueCodes.FlowTooLarge, Assert.Single(tooMany.Issues).Code);
        Assert.True(many.Runnable, many.ToText());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Validation took {watch.Elapsed}.");
    }

    [Fact]
    public void AFlowJustUnderTheSizeLimit_IsStillRead()
    {
        var export = JsonNode.Parse(Examples.Bytes(Examples.SimpleChatNoLlm))!;
        export["description"] = new string('d', 15 * 1024 * 1024);

        var report = FlowEngine.Default.Validate(export.ToJsonString());

        Assert.True(report.Runnable);
    }

    [Fact]
    public void Cycles_AreReported()
    {
        var json = new TestFlow()
            .Node("Prompt-a", "Prompt", outputs: ["prompt"], fields: [new Field("template", "{x}", "prompt", []), TestFlow.Text("x")])
            .Node("Prompt-b", "Prompt", outputs: ["prompt"], fields: [new Field("template", "{x}", "prompt", []), TestFlow.Text("x")])
            .Edge("Prompt-a", "prompt", "Prompt-b", "x")
            .Edge("Prompt-b", "prompt", "Prompt-a", "x")
            .Json();

        var report = FlowEngine.Default.Validate(json);

        var cycle = Assert.Single(report.Issues, issue => issue.Code == IssueCodes.Cycle);
        Assert.Contains("Prompt-a → Prompt-b", cycle.Message, StringComparison.Ordinal);
        Assert.False(report.Runnable);
    }

    [Fact]
    public void DanglingEdgesAndTypeMismatches_AreReported()
    {
        var json = new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: TestFlow.ChatInputFields)
            .Node("ChatOutput-1", "ChatOutput", fields: TestFlow.ChatOutputFields)
            .Node("Agent-1", "Agent", outputs: ["response"], fields: [TestFlow.Handle("tools", "Tool"), TestFlow.Text("input_value")])
            .Edge("ChatInput-1", "message", "ChatOutput-1", "input_value")
            .Edge("ChatInput-1", "message", "Agent-1", "tools")
            .Json();
        var node = JsonNode.Parse(json)!;
        node["data"]!["edges"]!.AsArray().Add(new JsonObject
        {
            ["source"] = "Ghost-1",
            ["target"] = "ChatOutput-1",
            ["data"] = new JsonObject { ["sourceHandle"] = new JsonObject { ["name"] = "x" }, ["targetHandle"] = new JsonObject { ["fieldName"] = "input_value" } },
        });

        var report = FlowEngine.Default.Validate(node.ToJsonString());

        Assert.Contains(report.Issues, issue => issue.Code == IssueCodes.DanglingEdge && issue.Message.Contains("Ghost-1", StringComparison.Ordinal));
        Assert.Contains(report.Issues, issue => issue.Code == IssueCodes.TypeMismatch && issue.NodeId == "Agent-1" && issue.Field == "tools");
    }

    [Fact]
    public void MultipleChatInputs_AreRejected()
    {
        var json = new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: TestFlow.ChatInputFields)
            .Node("ChatInput-2", "ChatInput", fields: TestFlow.ChatInputFields)
            .Json();

        Assert.Contains(FlowEngine.Default.Validate(json).Issues, issue => issue.Code == IssueCodes.MultipleChatInputs);
    }

    [Fact]
    public void RequiredFieldsWithoutValue_AreReported()
    {
        var json = new TestFlow()
            .Node("ParserComponent-1", "ParserComponent", outputs: ["parsed_text"], fields: [TestFlow.Handle("input_data", "Data", "DataFrame"), TestFlow.Text("pattern", "") with { Required = true }])
            .Json();

        var issue = Assert.Single(FlowEngine.Default.Validate(json).Issues, issue => issue.Code == IssueCodes.MissingRequiredInput);
        Assert.Equal(("ParserComponent-1", "pattern"), (issue.NodeId, issue.Field));
    }
}
