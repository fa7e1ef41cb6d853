using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Components.Processing;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Values;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static AgentMarket.Flows.Tests.Support.TestFlow;

namespace AgentMarket.Flows.Tests.Components;

/// <summary>Components without a model, each in a small synthetic flow.</summary>
public class ComponentFlowTests
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    static ExecutionPlan Compile(TestFlow flow)
    {
        var compiled = FlowEngine.Default.Compile(flow.Json());
        return compiled.Plan ?? throw new InvalidOperationException(compiled.Report.ToText());
    }

    static async Task<RunResult> RunAsync(TestFlow flow, string? input = "x", FlowServices? services = null, string? tweaks = null, string outputType = "any")
    {
        var result = await FlowEngine.Default.RunAsync(
            Compile(flow),
            new RunRequest { InputValue = input, OutputType = outputType, Tweaks = tweaks is null ? null : JsonDocument.Parse(tweaks).RootElement },
            services ?? TestServices.Create(),
            Ct);
        return result;
    }

    /// <summary>Chat Input → Type Convert (to the given output) → Parser(pattern) → Chat Output.</summary>
    static TestFlow Convert(string output, string pattern, string mode = "Parser") => new TestFlow()
        .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
        .Node("TypeConverterComponent-1", "TypeConverterComponent", outputs: ["message_output", "data_output:Data", "dataframe_output:DataFrame"],
            fields: [Handle("input_data", "Message", "Data", "DataFrame"), Text("output_type", output)])
        .Node("ParserComponent-1", "ParserComponent", outputs: ["parsed_text"], fields: [Handle("input_data", "Data", "DataFrame"), Text("pattern", pattern), Text("mode", mode)])
        .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
        .Edge("ChatInput-1", "message", "TypeConverterComponent-1", "input_data")
        .Edge("TypeConverterComponent-1", output == "Data" ? "data_output" : "dataframe_output", "ParserComponent-1", "input_data")
        .Edge("ParserComponent-1", "parsed_text", "ChatOutput-1", "input_value");

    [Theory]
    [InlineData("Data", "<{text}> [{missing}]", "Parser", "<hello> []")]
    [InlineData("DataFrame", "row: {text}", "Parser", "row: hello")]
    [InlineData("Data", "", "Stringify", "```json\n{\n  \"text\": \"hello\"\n}\n```")]
    [InlineData("DataFrame", "", "Stringify", "| text   |\n|:-------|\n| hello  |")]
    public async Task TypeConvertThenParser_FormatsAsLangflow(string output, string pattern, string mode, string expected)
    {
        var flow = Convert(output, pattern, mode);

        var result = await RunAsync(flow, "hello", outputType: "chat");

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(expected, result.OutputText);
    }

    [Fact]
    public async Task Parser_AColumnTheTableLacks_IsAnError()
    {
        var result = await RunAsync(Convert("DataFrame", "{nope}"), "hello");

        Assert.Equal(RunErrorCodes.TemplateError, result.Error?.Code);
        Assert.Equal("The template refers to {nope}, which has no value.", result.Error?.Message);
    }

    [Theory]
    [InlineData("equals", "Yes", false, "routed: Yes")]
    [InlineData("equals", "Yes", true, "other: Yes")]
    [InlineData("contains", "well, yes indeed", false, "routed: well, yes indeed")]
    [InlineData("starts with", "yes sir", false, "routed: yes sir")]
    [InlineData("regex", "order #1234", false, "routed: order #1234")]
    [InlineData("greater than", "7", false, "routed: 7")]
    [InlineData("greater than", "seven", false, "other: seven")]
    public async Task ConditionalRouter_ComparesAsLangflow(string comparison, string input, bool caseSensitive, string expected)
    {
        var match = comparison switch
        {
            "regex" => "#\\d+",
            "greater than" => "5",
            _ => "yes",
        };
        var flow = new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
            .Node("ConditionalRouter-1", "ConditionalRouter", outputs: ["true_result", "false_result"],
                fields: [Text("input_text"), Text("match_text", match), Text("operator", comparison), new Field("case_sensitive", caseSensitive, "bool", [])])
            .Node("Prompt-true", "Prompt", outputs: ["prompt"], fields: [new Field("template", "routed: {x}", "prompt", []), Text("x")])
            .Node("Prompt-false", "Prompt", outputs: ["prompt"], fields: [new Field("template", "other: {x}", "prompt", []), Text("x")])
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("ChatInput-1", "message", "ConditionalRouter-1", "input_text")
            .Edge("ConditionalRouter-1", "true_result", "Prompt-true", "x")
            .Edge("ConditionalRouter-1", "false_result", "Prompt-false", "x")
            .Edge("Prompt-true", "prompt", "ChatOutput-1", "input_value")
            .Edge("Prompt-false", "prompt", "ChatOutput-1", "input_value");

        Assert.Equal(expected, (await RunAsync(flow, input)).OutputText);
    }

    [Fact]
    public async Task Memory_StoreModeSavesAndRetrieveModeReadsBySenderAndOrder()
    {
        var messages = new InMemoryMessageStore();
        var services = TestServices.Create(messages: messages);
        var store = new TestFlow()
            .Node("TextInput-1", "TextInput", outputs: ["text"], fields: [Text("input_value", "")])
            .Node("Memory-store", "Memory", outputs: ["stored_messages"], fields: [Text("mode", "Store"), Text("message"), Text("session_id"), Text("sender", "Machine"), Text("sender_name", "Bot")])
            .Edge("TextInput-1", "text", "Memory-store", "message");
        var storePlan = Compile(store);
        foreach (var text in new[] { "one", "two", "three" })
        {
            await FlowEngine.Default.RunAsync(storePlan, new RunRequest { InputValue = text, InputType = "text", SessionId = "m" }, services, Ct);
        }

        var retrieve = new TestFlow()
            .Node("Memory-read", "Memory", outputs: ["messages_text"], fields:
            [
                Text("mode", "Retrieve"), Text("session_id"), new Field("n_messages", 2, "int", []), Text("order", "Descending"),
                Text("sender_type", "Machine"), Text("template", "{sender_name}/{text}"),
            ])
            .Node("TextOutput-1", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Edge("Memory-read", "messages_text", "TextOutput-1", "input_value");
        var result = await FlowEngine.Default.RunAsync(Compile(retrieve), new RunRequest { SessionId = "m", OutputType = "text" }, services, Ct);

        Assert.Equal(["one", "two", "three"], messages.Snapshot().Select(message => message.Text));
        Assert.All(messages.Snapshot(), message => Assert.Equal(("m", "Bot", MessageSenders.Machine), (message.SessionId, message.SenderName, message.Sender)));
        Assert.Equal("Bot/three\nBot/two", result.OutputText);
    }

    [Fact]
    public async Task ASessionIdWiredInFromAnotherNode_LivesUnderTheRunsSession_SoAnotherCallerDoesNotReadIt()
    {
        // A flow that wires one fixed session id into its Chat Input and Memory nodes (ADR-153): each caller's run
        // session still keeps its own memory.
        var services = TestServices.Create(messages: new InMemoryMessageStore());
        var store = new TestFlow()
            .Node("TextInput-session", "TextInput", outputs: ["text"], fields: [Text("input_value", "shared")])
            .Node("ChatInput-1", "ChatInput", outputs: ["message"], fields: ChatInputFields)
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("TextInput-session", "text", "ChatInput-1", "session_id")
            .Edge("ChatInput-1", "message", "ChatOutput-1", "input_value");
        var secret = $"secret {Guid.NewGuid():N}";
        var stored = await FlowEngine.Default.RunAsync(Compile(store), new RunRequest { InputValue = secret, InputType = "chat", SessionId = "visitor-a" }, services, Ct);
        Assert.Equal(RunStatus.Succeeded, stored.Status);

        var read = new TestFlow()
            .Node("TextInput-session", "TextInput", outputs: ["text"], fields: [Text("input_value", "shared")])
            .Node("Memory-read", "Memory", outputs: ["messages_text"], fields: [Text("mode", "Retrieve"), Text("session_id"), Text("template", "{text}")])
            .Node("TextOutput-1", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Edge("TextInput-session", "text", "Memory-read", "session_id")
            .Edge("Memory-read", "messages_text", "TextOutput-1", "input_value");
        var readPlan = Compile(read);
        var own = await FlowEngine.Default.RunAsync(readPlan, new RunRequest { SessionId = "visitor-a", OutputType = "text" }, services, Ct);
        var other = await FlowEngine.Default.RunAsync(readPlan, new RunRequest { SessionId = "visitor-b", OutputType = "text" }, services, Ct);

        Assert.Contains(secret, own.OutputText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, other.OutputText ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task IngestionFlow_FileThenSplitTextThenVectorStore_FillsTheKnowledgeBase()
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(Path.Combine(folder.Path, "guide.txt"), "alpha beta\ngamma delta\nepsilon zeta");
        var knowledge = new InMemoryKnowledgeBase();
        var flow = new TestFlow()
            .Node("File-1", "File", outputs: ["message"], fields: [new Field("path", "", "file", [])])
            .Node("SplitText-1", "SplitText", outputs: ["dataframe:DataFrame"], fields:
                [Handle("data_inputs", "Data", "DataFrame", "Message"), new Field("chunk_size", 12, "int", []), new Field("chunk_overlap", 0, "int", []), Text("separator", "\\n")])
            .Node("AstraDB-1", "AstraDB", outputs: ["search_results:Data", "dataframe:DataFrame"], fields: [Handle("ingest_data", "Data", "DataFrame") with { List = true }, Text("search_query")])
            .Edge("File-1", "message", "SplitText-1", "data_inputs")
            .Edge("SplitText-1", "dataframe", "AstraDB-1", "ingest_data");

        var result = await RunAsync(
            flow,
            input: null,
            TestServices.Create(knowledge: knowledge, documents: new PlainTextDocumentReader(folder.Path)),
            """{"File-1": {"path": ["guide.txt"]}}""");

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var hits = await knowledge.SearchAsync(new KnowledgeQuery("gamma", 5, null), Ct);
        Assert.Equal("gamma delta", Assert.Single(hits).Text);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task File_GivenNoPath_ReadsTheDocumentsTheHostOffers_OrFailsAsInLangflow(bool hostOffersDocuments)
    {
        using var folder = new TemporaryFolder();
        File.WriteAllText(Path.Combine(folder.Path, "a.txt"), "first document");
        File.WriteAllText(Path.Combine(folder.Path, "b.txt"), "second document");
        var flow = new TestFlow()
            .Node("File-1", "File", outputs: ["message"], fields: [new Field("path", "", "file", [])])
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("File-1", "message", "ChatOutput-1", "input_value");
        IDocumentReader reader = hostOffersDocuments ? new OfferingReader(folder.Path, ["a.txt", "b.txt"]) : new PlainTextDocumentReader(folder.Path);

        var result = await RunAsync(flow, input: null, TestServices.Create(documents: reader), outputType: "chat");

        if (hostOffersDocuments)
        {
            Assert.Equal("first document\n\nsecond document", result.OutputText);
        }
        else
        {
            Assert.Equal(RunErrorCodes.DocumentError, result.Error?.Code);
            Assert.StartsWith("No files to process.", result.Error?.Message, StringComparison.Ordinal);
        }
    }

    /// <summary>A host that names documents of its own for a File node given no path.</summary>
    sealed class OfferingReader(string folder, IReadOnlyList<string> offered) : IDocumentReader
    {
        readonly PlainTextDocumentReader _files = new(folder);

        public ValueTask<string> ReadTextAsync(string path, CancellationToken cancellationToken) => _files.ReadTextAsync(path, cancellationToken);

        public ValueTask<IReadOnlyList<string>> DefaultPathsAsync(CancellationToken cancellationToken) => ValueTask.FromResult(offered);
    }

    [Fact]
    public async Task KnowledgeRetrieval_ReturnsTheBestChunksAsATable()
    {
        var knowledge = new InMemoryKnowledgeBase();
        await knowledge.IngestAsync(
            [
                new KnowledgeDocument("Shipping takes three days.", ImmutableDictionary<string, string>.Empty.Add("source", "faq.md")),
                new KnowledgeDocument("Refunds take a week.", ImmutableDictionary<string, string>.Empty.Add("source", "faq.md")),
            ],
            Ct);
        var flow = new TestFlow()
            .Node("TextInput-1", "TextInput", outputs: ["text"], fields: [Text("input_value")])
            .Node("KnowledgeRetrieval-1", "KnowledgeRetrieval", outputs: ["retrieve_data:DataFrame"], fields: [Text("search_query"), new Field("top_k", 1, "int", [])])
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("TextInput-1", "text", "KnowledgeRetrieval-1", "search_query")
            .Edge("KnowledgeRetrieval-1", "retrieve_data", "ChatOutput-1", "input_value");

        var result = await FlowEngine.Default.RunAsync(Compile(flow), new RunRequest { InputValue = "refunds", InputType = "text" }, TestServices.Create(knowledge: knowledge), Ct);

        var table = Assert.IsType<Message>(Assert.Single(result.Outputs).Values[0].Value).Text;
        Assert.StartsWith("| content              |   _score | source   |", table, StringComparison.Ordinal);
        Assert.Contains("| Refunds take a week. |", table, StringComparison.Ordinal);
        Assert.DoesNotContain("Shipping", table, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnowledgeRetrieval_WithoutAKnowledgeBase_FailsClearly()
    {
        var flow = new TestFlow()
            .Node("TextInput-1", "TextInput", outputs: ["text"], fields: [Text("input_value", "q")])
            .Node("KnowledgeRetrieval-1", "KnowledgeRetrieval", outputs: ["retrieve_data:DataFrame"], fields: [Text("search_query")])
            .Edge("TextInput-1", "text", "KnowledgeRetrieval-1", "search_query");

        var result = await RunAsync(flow, null);

        Assert.Equal(RunErrorCodes.KnowledgeNotConfigured, result.Error?.Code);
    }

    [Fact]
    public async Task ApiRequest_SendsJsonAndReadsJson_ThroughTheGuard()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        app.MapPost("/echo", async (HttpContext context) =>
        {
            var body = await JsonDocument.ParseAsync(context.Request.Body);
            return Results.Json(new { got = body.RootElement.GetProperty("name").GetString(), query = context.Request.Query["q"].ToString(), header = context.Request.Headers["X-Key"].ToString() });
        });
        await app.StartAsync(Ct);
        var url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/echo";
        var flow = new TestFlow()
            .Node("APIRequest-1", "APIRequest", outputs: ["data:Data"], fields:
            [
                Text("url_input", url), Text("method", "POST"),
                new Field("body", JsonNodeOf("""[{"key":"name","value":"Ada"}]"""), "table", []),
                new Field("query_params", JsonNodeOf("""{"q":"search"}"""), "dict", []),
                new Field("headers", JsonNodeOf("""[{"key":"X-Key","value":"k1"}]"""), "table", []),
            ])
            .Node("ParserComponent-1", "ParserComponent", outputs: ["parsed_text"], fields: [Handle("input_data", "Data", "DataFrame"), Text("pattern", "{status_code} {result}")])
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("APIRequest-1", "data", "ParserComponent-1", "input_data")
            .Edge("ParserComponent-1", "parsed_text", "ChatOutput-1", "input_value");

        var allowed = await RunAsync(flow, null, TestServices.Create() with { Outbound = TestServices.LoopbackAllowed });
        var refused = await RunAsync(flow, null);

        Assert.Equal("200 {'got': 'Ada', 'query': 'search', 'header': 'k1'}", allowed.OutputText);
        Assert.Equal(RunErrorCodes.OutboundBlocked, refused.Error?.Code);
    }

    static System.Text.Json.Nodes.JsonNode JsonNodeOf(string json) => System.Text.Json.Nodes.JsonNode.Parse(json)!;

    [Theory]
    [InlineData("a\nb\nc", 3, 1, "False", new[] { "a\nb", "b\nc" })]
    [InlineData("one two three four", 9, 0, "False", new[] { "one two", "three", "four" })]
    [InlineData("aaaaaaaaaa\nb", 4, 0, "False", new[] { "aaaaaaaaaa", "b" })]
    [InlineData("a.b.c", 3, 0, "End", new[] { "a.", "b.c" })]
    [InlineData("a.b.c", 3, 0, "Start", new[] { "a.b", ".c" })]
    public void SplitText_MergesLikeLangChainsCharacterTextSplitter(string text, int size, int overlap, string keep, string[] expected)
    {
        var separator = text.Contains('\n', StringComparison.Ordinal) ? "\n" : text.Contains('.', StringComparison.Ordinal) ? "." : " ";
        var mode = Enum.Parse<SplitTextComponent.KeepMode>(keep == "False" ? "None" : keep);

        Assert.Equal(expected, SplitTextComponent.Split(text, separator, mode, size, overlap, Ct));
    }

    [Fact]
    public void SplitText_OfALargeDocument_StopsWhenTheRunIsCanceled()
    {
        // A piece per character: millions of them, seconds of work a canceled run must not keep doing.
        var document = new string('x', 5_000_000);
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();

        Assert.Throws<OperationCanceledException>(() => SplitTextComponent.Split(document, "", SplitTextComponent.KeepMode.None, 1000, 200, canceled.Token));
    }

    [Fact]
    public async Task HtmlText_OfALargePage_StopsWhenTheRunIsCanceled()
    {
        var page = "<html><body>" + string.Concat(Enumerable.Repeat("<p>para <b>bold</b></p><script>x()</script>", 50_000)) + "</body></html>";
        using var canceled = new CancellationTokenSource();
        canceled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => HtmlText.ExtractAsync(page, canceled.Token));
    }

    [Fact]
    public async Task Webhook_ParsesItsPayload()
    {
        var flow = new TestFlow()
            .Node("Webhook-1", "Webhook", outputs: ["output_data:Data"], fields: [Text("data", "")])
            .Node("ParserComponent-1", "ParserComponent", outputs: ["parsed_text"], fields: [Handle("input_data", "Data", "DataFrame"), Text("pattern", "{event}/{payload}")])
            .Node("TextOutput-1", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Edge("Webhook-1", "output_data", "ParserComponent-1", "input_data")
            .Edge("ParserComponent-1", "parsed_text", "TextOutput-1", "input_value");
        var plan = Compile(flow);

        // Langflow's webhook endpoint hands the body to every Webhook node as the tweak {"<id>": {"data": body}} (format §6.3).
        var json = await FlowEngine.Default.RunAsync(plan, new RunRequest { OutputType = "text", Tweaks = JsonDocument.Parse("""{"Webhook-1": {"data": "{\"event\":\"paid\"}"}}""").RootElement }, TestServices.Create(), Ct);
        var raw = await FlowEngine.Default.RunAsync(plan, new RunRequest { OutputType = "text", Tweaks = JsonDocument.Parse("""{"Webhook-1": {"data": "not json"}}""").RootElement }, TestServices.Create(), Ct);

        Assert.Equal("Webhook-1", plan.Report.StartNodeId);
        Assert.Equal("paid/", json.OutputText);
        Assert.Equal("/not json", raw.OutputText);
    }
}
