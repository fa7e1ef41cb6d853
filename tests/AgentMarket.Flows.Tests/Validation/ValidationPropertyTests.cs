using System.Text;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Validation;
using FsCheck;
using FsCheck.Fluent;

namespace AgentMarket.Flows.Tests.Validation;

/// <summary>
/// Properties: loading and validation never throw and never fail internally, whatever the input (random bytes,
/// random JSON, real exports with random mutations); whatever validates as runnable runs to a result.
/// </summary>
public class ValidationPropertyTests
{
    static readonly Config Thorough = Config.QuickThrowOnFailure.WithMaxTest(1000);

    static readonly string[] Keys =
    [
        "id", "type", "data", "node", "nodes", "edges", "template", "value", "outputs", "name", "types", "source", "target",
        "sourceHandle", "targetHandle", "fieldName", "output_types", "inputTypes", "input_types", "show", "required", "list",
        "load_from_db", "tool_mode", "edited", "metadata", "module", "code", "custom_fields", "display_name", "file_path",
        "tools_metadata", "flow", "last_tested_version", "is_component",
    ];

    static readonly byte[][] Exports = [.. Examples.All.Select(Examples.Bytes)];

    static bool Accepted(byte[] bytes)
    {
        var report = FlowEngine.Default.Validate(bytes);
        return report.Issues.All(issue => issue.Code != IssueCodes.InternalError) && (report.Runnable || report.Issues.Any(issue => issue.Severity == IssueSeverity.Error));
    }

    [Fact]
    public void RandomBytes_NeverThrow() =>
        Prop.ForAll(Arb.From(ArbMap.Default.GeneratorFor<byte[]>()), bytes => Accepted(bytes)).Check(Thorough);

    [Fact]
    public void RandomJson_NeverThrows() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            var random = new Random(seed);
            return Accepted(Encoding.UTF8.GetBytes(RandomNode(random, depth: 0)?.ToJsonString() ?? "null"));
        }).Check(Thorough);

    [Fact]
    public void MutatedExports_NeverThrow_AndWhatIsRunnableRuns()
    {
        var cases = from example in Gen.Choose(0, Exports.Length - 1)
                    from seed in Gen.Choose(0, int.MaxValue)
                    from mutations in Gen.Choose(1, 6)
                    select (example, seed, mutations);
        Prop.ForAll(Arb.From(cases), input =>
        {
            var bytes = Mutate(Exports[input.example], new Random(input.seed), input.mutations);
            var compiled = FlowEngine.Default.Compile(bytes);
            if (compiled.Report.Issues.Any(issue => issue.Code == IssueCodes.InternalError) || (compiled.Plan is null) == compiled.Report.Runnable)
            {
                return false;
            }

            if (compiled.Plan is null)
            {
                return true;
            }

            var services = TestServices.Create() with
            {
                Limits = new RunLimits { WallTime = TimeSpan.FromSeconds(5), MaxOutboundRequests = 0 },
            };
            var result = FlowEngine.Default.RunAsync(compiled.Plan, new RunRequest { InputValue = "hi", SessionId = "s" }, services).GetAwaiter().GetResult();
            return result.Status == RunStatus.Succeeded || result.Error is { Code.Length: > 0 };
        }).Check(Thorough);
    }

    static byte[] Mutate(byte[] export, Random random, int mutations)
    {
        if (random.Next(10) == 0)
        {
            // Truncated uploads.
            return export[..random.Next(export.Length)];
        }

        var root = JsonNode.Parse(export)!;
        for (var index = 0; index < mutations; index++)
        {
            var containers = Containers(root).ToList();
            var target = containers[random.Next(containers.Count)];
            var graph = root["data"] as JsonObject;
            var edges = graph?["edges"] as JsonArray;
            var nodes = graph?["nodes"] as JsonArray;
            switch (random.Next(5))
            {
                case 0 when target is JsonObject { Count: > 0 } obj:
                    obj.Remove(obj.ElementAt(random.Next(obj.Count)).Key);
                    break;
                case 1 when target is JsonObject { Count: > 0 } obj:
                    obj[obj.ElementAt(random.Next(obj.Count)).Key] = RandomNode(random, depth: 2);
                    break;
                case 2 when target is JsonArray { Count: > 0 } array:
                    array.Add(array[random.Next(array.Count)]?.DeepClone());
                    break;
                case 3 when edges is not null && nodes is { Count: > 0 }:
                    edges.Add(RandomEdge(random, nodes));
                    break;
                default:
                    if (target is JsonArray { Count: > 0 } list)
                    {
                        list.RemoveAt(random.Next(list.Count));
                    }

                    break;
            }
        }

        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    static JsonObject RandomEdge(Random random, JsonArray nodes)
    {
        string? Id()
        {
            // An earlier mutation may have replaced a node with a value of another kind: it has no id to point at.
            var node = nodes[random.Next(nodes.Count)];
            return node is JsonObject obj && obj["id"] is JsonValue id && id.TryGetValue<string>(out var text) ? text : null;
        }

        var fields = new[] { "input_value", "template", "tools", "system_message", "x", "memory", "data_inputs" };
        return new JsonObject
        {
            ["source"] = Id(),
            ["target"] = Id(),
            ["data"] = new JsonObject
            {
                ["sourceHandle"] = new JsonObject { ["name"] = random.Next(2) == 0 ? "message" : "prompt", ["output_types"] = new JsonArray("Message") },
                ["targetHandle"] = new JsonObject { ["fieldName"] = fields[random.Next(fields.Length)], ["inputTypes"] = new JsonArray("Message") },
            },
        };
    }

    static IEnumerable<JsonNode> Containers(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject obj => obj.Select(pair => pair.Value),
            JsonArray array => array,
            _ => [],
        };
        foreach (var child in children)
        {
            if (child is JsonObject or JsonArray)
            {
                foreach (var container in Containers(child))
                {
                    yield return container;
                }
            }
        }
    }

    static JsonNode? RandomNode(Random random, int depth) => (depth > 4 ? random.Next(5) : random.Next(8)) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next(-5, 1000)),
        3 => JsonValue.Create(random.NextDouble() * 1e6),
        4 => JsonValue.Create(RandomText(random)),
        5 or 6 => new JsonObject(Enumerable.Range(0, random.Next(6))
            .Select(_ => Keys[random.Next(Keys.Length)])
            .Distinct()
            .Select(key => KeyValuePair.Create(key, RandomNode(random, depth + 1)))),
        _ => new JsonArray([.. Enumerable.Range(0, random.Next(5)).Select(_ => RandomNode(random, depth + 1))]),
    };

    static string RandomText(Random random)
    {
        string[] samples = ["", "ChatInput", "ChatOutput-1", "Prompt", "{x}", "{", "}", "œ", "{œnameœ: œmessageœ}", "a|b|c", "Message", "\n", "OPENAI_API_KEY", "…"];
        return random.Next(3) == 0 ? new string((char)random.Next(32, 0x2FFF), random.Next(20)) : samples[random.Next(samples.Length)];
    }
}
