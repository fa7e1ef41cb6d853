using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Processing;

/// <summary>
/// Type Convert (format §4.7): Message, Data or DataFrame into the requested type. DataFrame → Message is the
/// cleaned Markdown table; Data → Message its text (or the JSON); Message → Data <c>{"text": …}</c>.
/// </summary>
internal sealed class TypeConverterComponent : Component
{
    static readonly InputSpec InputData = new("input_data", InputKind.Handle);
    static readonly InputSpec OutputType = new("output_type", InputKind.Text, "Message");
    static readonly OutputSpec MessageOutput = new("message_output", "Message");
    static readonly OutputSpec DataOutput = new("data_output", "Data");
    static readonly OutputSpec DataFrameOutput = new("dataframe_output", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "TypeConverter",
        typeNames: ["TypeConverterComponent", "TypeConverter"],
        classNames: ["TypeConverterComponent"],
        inputs: [InputData, OutputType],
        outputs: [MessageOutput, DataOutput, DataFrameOutput]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var input = node.Value(InputData) switch
        {
            IReadOnlyList<object?> { Count: > 0 } list => list[0],
            var single => single,
        } ?? throw new FlowComponentException(RunErrorCodes.ComponentError, "Type Convert has no input.");
        if (node.IsRequested(MessageOutput))
        {
            node.Set(MessageOutput, ToMessage(node, input));
        }

        if (node.IsRequested(DataOutput))
        {
            node.Set(DataOutput, ToData(input));
        }

        if (node.IsRequested(DataFrameOutput))
        {
            node.Set(DataFrameOutput, ToDataFrame(input));
        }

        return ValueTask.CompletedTask;
    }

    internal static Message ToMessage(NodeExecution node, object input) => input switch
    {
        Message message => message,
        Data data => node.NewMessage(data.Text ?? PythonText.Repr(data.Value)),
        DataFrame frame => node.NewMessage(MarkdownTable.Render(frame, clean: true)),
        _ => node.NewMessage(TextConversion.AsText(input)),
    };

    internal static Data ToData(object input) => input switch
    {
        Data data => data,
        Message message => Data.FromPairs([new("text", message.Text)]),
        DataFrame frame => new Data(JsonValues.Object([new("results", JsonValues.Array(frame.Rows.Select(row => row.Value)))])),
        JsonElement { ValueKind: JsonValueKind.Object } element => new Data(element),
        _ => Data.FromPairs([new("text", TextConversion.AsText(input))]),
    };

    internal static DataFrame ToDataFrame(object input) => input switch
    {
        DataFrame frame => frame,
        Data data => new DataFrame([data]),
        IReadOnlyList<object?> items => new DataFrame([.. items.Where(item => item is not null).Select(item => ToData(item!))]),
        _ => new DataFrame([ToData(input)]),
    };
}
