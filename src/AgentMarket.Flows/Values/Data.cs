using System.Collections.Immutable;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>
/// Langflow's <c>Data</c>: a JSON object whose "text" is the value under <see cref="TextKey"/> (langflow-format.md §2).
/// Immutable; the object keeps its key order, which becomes the column order of a <see cref="DataFrame"/>.
/// </summary>
public sealed class Data
{
    /// <summary>Creates a Data value over a JSON object (any other JSON kind is wrapped as <c>{"value": …}</c>).</summary>
    public Data(JsonElement value, string textKey = "text", string defaultValue = "")
    {
        Value = value.ValueKind == JsonValueKind.Object ? value : JsonValues.Object([new("value", value)]);
        TextKey = textKey;
        DefaultValue = defaultValue;
    }

    /// <summary>The wrapped object.</summary>
    public JsonElement Value { get; }

    /// <summary>The key whose value is this Data's text.</summary>
    public string TextKey { get; }

    /// <summary>What a missing key reads as in templates.</summary>
    public string DefaultValue { get; }

    /// <summary>An empty object.</summary>
    public static Data Empty { get; } = new(JsonValues.EmptyObject);

    /// <summary>Builds a Data value from key/value pairs (values: string, numbers, bool, null, JsonElement, lists, dictionaries).</summary>
    public static Data FromPairs(IEnumerable<KeyValuePair<string, object?>> pairs) =>
        new(JsonValues.Object(pairs.Select(p => new KeyValuePair<string, JsonElement>(p.Key, JsonValues.From(p.Value)))));

    /// <summary>Looks up a key.</summary>
    public bool TryGet(string key, out JsonElement value) => Value.TryGetProperty(key, out value);

    /// <summary>The keys in order.</summary>
    public IEnumerable<string> Keys => Value.EnumerateObject().Select(p => p.Name);

    /// <summary>The text under <see cref="TextKey"/>, or null when the key is absent.</summary>
    public string? Text => TryGet(TextKey, out var text) ? PythonText.Str(text) : null;

    /// <summary>The object as compact JSON.</summary>
    public override string ToString() => Value.GetRawText();
}

/// <summary>Langflow's <c>DataFrame</c>: a table of rows; its columns are the union of the rows' keys in first-seen order.</summary>
public sealed class DataFrame
{
    /// <summary>Creates a table from rows.</summary>
    public DataFrame(ImmutableArray<Data> rows)
    {
        Rows = rows;
        var columns = ImmutableArray.CreateBuilder<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            foreach (var key in row.Keys)
            {
                if (seen.Add(key))
                {
                    columns.Add(key);
                }
            }
        }

        Columns = columns.ToImmutable();
    }

    /// <summary>The rows.</summary>
    public ImmutableArray<Data> Rows { get; }

    /// <summary>The columns.</summary>
    public ImmutableArray<string> Columns { get; }

    /// <summary>An empty table.</summary>
    public static DataFrame Empty { get; } = new([]);
}
