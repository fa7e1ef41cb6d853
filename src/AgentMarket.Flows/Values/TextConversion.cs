using System.Text.Json;
using System.Text.RegularExpressions;

namespace AgentMarket.Flows.Values;

/// <summary>
/// How values become text, as Langflow converts them (its <c>safe_convert</c> and field coercions):
/// Message → its text, Data → fenced pretty JSON, DataFrame → Markdown table, string → blank lines emptied and runs of
/// three or more newlines collapsed.
/// </summary>
internal static partial class TextConversion
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 2 };

    /// <summary>Langflow's <c>safe_convert</c>: what ChatOutput and Parser (Stringify) show.</summary>
    public static string SafeConvert(object? value, bool cleanData) => value switch
    {
        null => "",
        string text => CleanString(text),
        Message message => message.Text,
        Data data => CleanString("```json\n" + JsonSerializer.Serialize(data.Value, Indented) + "\n```"),
        DataFrame frame => MarkdownTable.Render(frame, cleanData),
        IReadOnlyList<object?> items => string.Join("\n", items.Select(item => SafeConvert(item, cleanData))),
        JsonElement element => CleanString(PythonText.Str(element)),
        _ => CleanString(PythonText.StrOfObject(value)),
    };

    /// <summary>Langflow's <c>clean_string</c>: empty whitespace-only lines, then collapse three or more newlines to two.</summary>
    public static string CleanString(string text)
    {
        if (text.IndexOf('\n', StringComparison.Ordinal) < 0)
        {
            return string.IsNullOrWhiteSpace(text) ? "" : text;
        }

        return ThreeOrMoreNewlines().Replace(BlankLines().Replace(text, ""), "\n\n");
    }

    /// <summary>The text a text-typed input reads from an edge value (MessageTextInput semantics).</summary>
    public static string AsText(object? value) => value switch
    {
        null => "",
        string text => text,
        Message message => message.Text,
        Data data => data.Text ?? PythonText.Str(data.Value),
        DataFrame frame => MarkdownTable.Render(frame, clean: false),
        JsonElement element => PythonText.Str(element),
        IReadOnlyList<object?> items => "[" + string.Join(", ", items.Select(item => item is string s ? PythonText.Repr(JsonValues.String(s)) : AsText(item))) + "]",
        _ => PythonText.StrOfObject(value),
    };

    [GeneratedRegex(@"^\s*$", RegexOptions.Multiline)]
    private static partial Regex BlankLines();

    [GeneratedRegex(@"\n{3,}")]
    private static partial Regex ThreeOrMoreNewlines();

    [GeneratedRegex(@"\n+")]
    internal static partial Regex NewlineRuns();
}
