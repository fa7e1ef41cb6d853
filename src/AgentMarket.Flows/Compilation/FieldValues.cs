using System.Globalization;
using System.Text.Json;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Compilation;

/// <summary>
/// Converts a template field's configured <c>value</c> into the value a component reads, by the field's
/// <c>type</c>, as Langflow does when it builds a node (format §1.3). A null result means "not configured":
/// the component's default applies.
/// </summary>
internal static class FieldValues
{
    public static object? Convert(string fieldType, JsonElement value, JsonElement? filePath)
    {
        switch (fieldType)
        {
            case "file":
                return FilePaths(filePath is { } path && path.ValueKind != JsonValueKind.Undefined ? path : value);
            case "code" or "other":
                // "other" fields are handles (Tool, Embeddings, Data…): only an edge can set them.
                return null;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return ConvertString(fieldType, value.GetString() ?? "");
            case JsonValueKind.Number:
                return fieldType switch
                {
                    "int" when value.TryGetInt64(out var whole) => whole,
                    "int" when value.TryGetDouble(out var number) => (long)Math.Truncate(number),
                    "float" or "slider" when value.TryGetDouble(out var number) => number,
                    "str" or "prompt" or "query" or "tab" => PythonText.Str(value),
                    _ => value.TryGetInt64(out var integer) ? integer : value.TryGetDouble(out var real) ? real : value,
                };
            case JsonValueKind.True or JsonValueKind.False:
                return value.ValueKind == JsonValueKind.True;
            case JsonValueKind.Array when fieldType == "str":
                // A list of strings gets the same "\n" treatment element-wise.
                return value.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String ? (object?)Unescape(item.GetString() ?? "") : item).ToList();
            default:
                return value;
        }
    }

    static object? ConvertString(string fieldType, string text) => fieldType switch
    {
        "str" => Unescape(text),
        "int" => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) ? whole
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) ? (long)Math.Truncate(real)
            : text.Length == 0 ? null : text,
        "float" or "slider" => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number
            : text.Length == 0 ? null : text,
        // Python truthiness: "false" is a non-empty string, hence true (format §1.3, kept for compatibility).
        "bool" => text.Length > 0,
        "dict" or "NestedDict" => ParseObject(text),
        "table" or "tools" => text.Length == 0 ? null : ParseJson(text),
        "model" => text.Length == 0 ? null : text,
        _ => text,
    };

    /// <summary>Langflow turns the two characters <c>\n</c> of a str field into a newline.</summary>
    static string Unescape(string text) => text.Contains("\\n", StringComparison.Ordinal) ? text.Replace("\\n", "\n", StringComparison.Ordinal) : text;

    static object? ParseObject(string text)
    {
        if (text.Length == 0)
        {
            return null;
        }

        return ParseJson(text) is JsonElement { ValueKind: JsonValueKind.Object } element ? element : text;
    }

    static object? ParseJson(string text)
    {
        try
        {
            return JsonValues.Parse(text);
        }
        catch (JsonException)
        {
            return text;
        }
    }

    static List<object?>? FilePaths(JsonElement value)
    {
        var paths = new List<object?>();
        switch (value.ValueKind)
        {
            case JsonValueKind.String when !string.IsNullOrWhiteSpace(value.GetString()):
                paths.Add(value.GetString());
                break;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(item.GetString()))
                    {
                        paths.Add(item.GetString());
                    }
                }

                break;
        }

        return paths.Count == 0 ? null : paths;
    }
}
