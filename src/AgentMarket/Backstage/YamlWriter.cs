using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace AgentMarket.Backstage;

/// <summary>
/// Writes JSON values as block-style YAML documents separated by <c>---</c>, the way catalog-info.yaml files look. No
/// YAML package restores from the mirror (PACKAGES.md lists none), and the subset needed is small: every string value is
/// double-quoted with JSON escapes (valid YAML 1.2 double-quoted escapes, so no value can turn into a boolean, number or
/// another key), multi-line strings are literal blocks, keys are known identifiers.
/// </summary>
static partial class YamlWriter
{
    static readonly JsonSerializerOptions QuotedStrings = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Documents(IEnumerable<JsonObject> documents)
    {
        var yaml = new StringBuilder();
        foreach (var document in documents)
        {
            yaml.Append("---\n");
            WriteMapping(yaml, document, 0);
        }
        return yaml.ToString();
    }

    static void WriteMapping(StringBuilder yaml, JsonObject mapping, int indent)
    {
        foreach (var (key, value) in mapping)
        {
            yaml.Append(' ', indent).Append(Key(key)).Append(':');
            WriteValue(yaml, value, indent);
        }
    }

    // Writes what follows "key:" or "-": an inline scalar or an empty collection on the same line, else a nested block.
    static void WriteValue(StringBuilder yaml, JsonNode? value, int indent)
    {
        switch (value)
        {
            case JsonObject { Count: > 0 } mapping:
                yaml.Append('\n');
                WriteMapping(yaml, mapping, indent + 2);
                break;
            case JsonObject:
                yaml.Append(" {}\n");
                break;
            case JsonArray { Count: > 0 } sequence:
                yaml.Append('\n');
                foreach (var item in sequence)
                {
                    yaml.Append(' ', indent + 2).Append('-');
                    if (item is JsonObject { Count: > 0 } itemMapping)
                    {
                        // "- key: value" with the remaining keys aligned under the first.
                        var first = true;
                        foreach (var (key, inner) in itemMapping)
                        {
                            yaml.Append(first ? " " : new string(' ', indent + 4)).Append(Key(key)).Append(':');
                            WriteValue(yaml, inner, indent + 4);
                            first = false;
                        }
                    }
                    else
                    {
                        WriteValue(yaml, item, indent + 2);
                    }
                }
                break;
            case JsonArray:
                yaml.Append(" []\n");
                break;
            case JsonValue scalar when scalar.GetValueKind() == JsonValueKind.String && scalar.GetValue<string>() is { } text && text.Contains('\n') && CanBeLiteral(text):
                // "|-" keeps the text exactly, without the final line break (the text has none, or we would use "|").
                yaml.Append(" |-\n");
                foreach (var line in text.Split('\n'))
                {
                    if (line.Length > 0)
                    {
                        yaml.Append(' ', indent + 2).Append(line);
                    }
                    yaml.Append('\n');
                }
                break;
            case null:
                yaml.Append(" null\n");
                break;
            case JsonValue scalar:
                yaml.Append(' ').Append(ScalarValue(scalar)).Append('\n');
                break;
        }
    }

    // "|-" cannot say "ends with a line break", keep carriage returns, or start with spaces (they would read as indentation).
    static bool CanBeLiteral(string text) => !text.EndsWith('\n') && !text.StartsWith(' ') && !text.Contains('\r');

    static string ScalarValue(JsonValue scalar) => scalar.GetValueKind() switch
    {
        JsonValueKind.String => Scalar(scalar.GetValue<string>()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => scalar.ToJsonString(),
        _ => Scalar(scalar.ToJsonString()),
    };

    static string Scalar(string text) => JsonSerializer.Serialize(text, QuotedStrings);

    // Keys such as "apiVersion" or "backstage.io/view-url" read the same unquoted; anything else is quoted.
    static string Key(string key) => PlainKey().IsMatch(key) ? key : Scalar(key);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_./-]*$")]
    private static partial Regex PlainKey();
}
