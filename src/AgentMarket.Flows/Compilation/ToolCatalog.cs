using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Compilation;

/// <summary>
/// The functions a tool-mode node offers (format §4.8): its <c>tools_metadata</c> rows (name, description, args,
/// status) matched to the component's tool outputs. A row the seller disabled (<c>status: false</c>) is left out.
/// </summary>
internal static class ToolCatalog
{
    public static ImmutableArray<PlanTool> Build(NodeDefinition node, ComponentSpec spec)
    {
        var rows = node.Field("tools_metadata")?.Value is { ValueKind: JsonValueKind.Array } table
            ? table.EnumerateArray().Where(row => row.ValueKind == JsonValueKind.Object).ToList()
            : [];
        var tools = ImmutableArray.CreateBuilder<PlanTool>();
        for (var index = 0; index < spec.Tools.Length; index++)
        {
            var tool = spec.Tools[index];
            var row = rows.FirstOrDefault(candidate => OriginalName(candidate) == tool.Name);
            if (row.ValueKind == JsonValueKind.Undefined && index < rows.Count)
            {
                row = rows[index];
            }

            if (row.ValueKind == JsonValueKind.Object && row.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.False)
            {
                continue;
            }

            var name = Sanitize(Text(row, "name") ?? tool.Name);
            var description = Text(row, "description") ?? tool.Description;
            tools.Add(new PlanTool(name, description, Parameters(row, tool), tool));
        }

        return tools.ToImmutable();
    }

    static string? OriginalName(JsonElement row) =>
        row.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.Array && tags.GetArrayLength() > 0 && tags[0].ValueKind == JsonValueKind.String
            ? tags[0].GetString()
            : Text(row, "name");

    static JsonElement Parameters(JsonElement row, ToolSpec tool)
    {
        var properties = new List<KeyValuePair<string, object?>>();
        var metadataArgs = row.ValueKind == JsonValueKind.Object && row.TryGetProperty("args", out var args) && args.ValueKind == JsonValueKind.Object ? args : default;
        foreach (var argument in tool.Arguments)
        {
            var declared = metadataArgs.ValueKind == JsonValueKind.Object && metadataArgs.TryGetProperty(argument.Name, out var schema) && schema.ValueKind == JsonValueKind.Object
                ? schema
                : default;
            var type = Text(declared, "type") ?? (argument.Kind is InputKind.Files ? "array" : "string");
            var property = new Dictionary<string, object?>
            {
                ["type"] = type,
                ["description"] = Text(declared, "description") ?? argument.ToolDescription ?? argument.Name,
            };
            if (type == "array")
            {
                property["items"] = declared.ValueKind == JsonValueKind.Object && declared.TryGetProperty("items", out var items) ? items : JsonValues.Parse("""{"type":"string"}""");
            }

            properties.Add(new(argument.Name, property));
        }

        return JsonValues.From(new Dictionary<string, object?>
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = tool.Arguments.Select(argument => argument.Name).ToArray(),
        });
    }

    static string? Text(JsonElement element, string key) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    /// <summary>OpenAI function names allow letters, digits, <c>_</c> and <c>-</c>, up to 64 characters.</summary>
    internal static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var character in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(character) || character is '_' or '-' ? character : '_');
        }

        var result = builder.ToString();
        return result.Length == 0 ? "tool" : result.Length > 64 ? result[..64] : result;
    }
}
