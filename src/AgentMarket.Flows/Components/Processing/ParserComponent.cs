using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Processing;

/// <summary>
/// Parser (format §4.6): Parser mode formats each DataFrame row (or the one Data) with <c>pattern</c> and joins
/// them with <c>sep</c>; a key missing from a Data reads as its default value, a column missing from the table is
/// an error, as in Python. Stringify mode shows the input as Chat Output would.
/// </summary>
internal sealed class ParserComponent : Component
{
    static readonly InputSpec InputData = new("input_data", InputKind.Handle);
    static readonly InputSpec Mode = new("mode", InputKind.Text, "Parser");
    static readonly InputSpec Pattern = new("pattern", InputKind.Text, "Text: {text}");
    static readonly InputSpec Separator = new("sep", InputKind.Text, "\n");
    static readonly InputSpec CleanData = new("clean_data", InputKind.Bool, true);
    static readonly OutputSpec ParsedText = new("parsed_text", "Message");

    public override ComponentSpec Spec { get; } = new(
        "Parser",
        typeNames: ["ParserComponent", "parser"],
        classNames: ["ParserComponent"],
        inputs: [InputData, Mode, Pattern, Separator, CleanData],
        outputs: [ParsedText]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var input = node.Value(InputData);
        string text;
        if (node.Text(Mode) == "Stringify")
        {
            text = input is IReadOnlyList<object?> items
                ? string.Join("\n", items.Select(item => TextConversion.SafeConvert(item, node.Bool(CleanData))))
                : TextConversion.SafeConvert(input, cleanData: false);
        }
        else
        {
            text = Parse(node, input);
        }

        node.Set(ParsedText, node.NewMessage(text));
        return ValueTask.CompletedTask;
    }

    static string Parse(NodeExecution node, object? input)
    {
        var pattern = node.Text(Pattern);
        switch (input)
        {
            case DataFrame frame:
                var lines = frame.Rows.Select(row => PythonFormat.Format(pattern, (string key, out bool found) =>
                {
                    // A column absent from this row reads as pandas' NaN; a key that is no column is a KeyError.
                    found = frame.Columns.Contains(key);
                    return row.TryGet(key, out var value) ? value : "nan";
                }));
                return string.Join(node.Text(Separator), lines);
            case Message message:
                return FormatData(pattern, MessageFields.ToData(message));
            case Data data:
                return FormatData(pattern, data);
            case IReadOnlyList<object?>:
                throw new FlowComponentException(RunErrorCodes.ComponentError, "List of Data objects is not supported.");
            default:
                throw new FlowComponentException(
                    RunErrorCodes.ComponentError,
                    $"Unsupported input type: {input?.GetType().Name ?? "None"}. Expected DataFrame or Data.");
        }
    }

    static string FormatData(string pattern, Data data) => PythonFormat.Format(pattern, (string key, out bool found) =>
    {
        found = true;
        return data.TryGet(key, out var value) ? value : data.DefaultValue;
    });
}
