using System.Text.Json.Nodes;

namespace AgentMarket.Flows.Tests.Support;

/// <summary>Builds Langflow-shaped flow JSON for synthetic tests: nodes with template fields and outputs, edges with data handles.</summary>
internal sealed class TestFlow
{
    readonly JsonArray _nodes = [];
    readonly JsonArray _edges = [];
    readonly Dictionary<string, JsonObject> _byId = [];

    public string? Id { get; init; } = "00000000-0000-0000-0000-000000000001";

    public TestFlow Node(string id, string type, string? displayName = null, IEnumerable<string>? outputs = null, params Field[] fields)
    {
        var template = new JsonObject { ["_type"] = "Component" };
        foreach (var field in fields)
        {
            var definition = new JsonObject
            {
                ["type"] = field.Type,
                ["value"] = field.Value?.DeepClone(),
                ["show"] = field.Show,
                ["required"] = field.Required,
                ["list"] = field.List,
                ["load_from_db"] = field.LoadFromDb,
                ["input_types"] = new JsonArray([.. field.InputTypes.Select(type => (JsonNode?)type)]),
            };
            template[field.Name] = definition;
        }

        var node = new JsonObject
        {
            ["id"] = id,
            ["type"] = "genericNode",
            ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0 },
            ["data"] = new JsonObject
            {
                ["id"] = id,
                ["type"] = type,
                ["node"] = new JsonObject
                {
                    ["display_name"] = displayName ?? type,
                    ["template"] = template,
                    ["outputs"] = new JsonArray([.. (outputs ?? ["message"]).Select(name => (JsonNode?)new JsonObject
                    {
                        ["name"] = name,
                        ["types"] = new JsonArray("Message"),
                    })]),
                },
            },
        };
        _byId[id] = node;
        _nodes.Add(node);
        return this;
    }

    public TestFlow Edge(string source, string output, string target, string field)
    {
        var outputTypes = ((JsonArray)_byId[source]["data"]!["node"]!["outputs"]!).First(item => (string?)item!["name"] == output)!["types"]!.DeepClone();
        var inputTypes = _byId[target]["data"]!["node"]!["template"]![field]?["input_types"]?.DeepClone() ?? new JsonArray("Message");
        _edges.Add(new JsonObject
        {
            ["source"] = source,
            ["target"] = target,
            ["data"] = new JsonObject
            {
                ["sourceHandle"] = new JsonObject { ["dataType"] = "x", ["id"] = source, ["name"] = output, ["output_types"] = outputTypes },
                ["targetHandle"] = new JsonObject { ["fieldName"] = field, ["id"] = target, ["inputTypes"] = inputTypes, ["type"] = "str" },
            },
        });
        return this;
    }

    public string Json() => new JsonObject
    {
        ["id"] = Id,
        ["name"] = "Test flow",
        ["data"] = new JsonObject { ["nodes"] = _nodes.DeepClone(), ["edges"] = _edges.DeepClone() },
    }.ToJsonString();

    public static Field Text(string name, string value = "", params string[] inputTypes) => new(name, value, "str", inputTypes.Length == 0 ? ["Message"] : inputTypes);

    public static Field Handle(string name, params string[] inputTypes) => new(name, "", "other", inputTypes);

    /// <summary>The usual Chat Input → Chat Output fields.</summary>
    public static Field[] ChatInputFields => [Text("input_value", "", []), Text("session_id"), new("should_store_message", true, "bool", [])];

    public static Field[] ChatOutputFields => [Handle("input_value", "Data", "DataFrame", "Message"), Text("session_id"), Text("sender_name", "AI")];
}

/// <summary>A template field of a synthetic node.</summary>
internal sealed record Field(string Name, JsonNode? Value, string Type, string[] InputTypes)
{
    public bool Show { get; init; } = true;

    public bool Required { get; init; }

    public bool List { get; init; }

    public bool LoadFromDb { get; init; }
}
