using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.InputOutput;

/// <summary>Text Input (format §4.2): its text as a Message with only <c>text</c> set; not stored.</summary>
internal sealed class TextInputComponent : Component
{
    static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
    static readonly OutputSpec Text = new("text", "Message");

    public override ComponentSpec Spec { get; } = new(
        "TextInput",
        typeNames: ["TextInput"],
        classNames: ["TextInputComponent"],
        inputs: [InputValue],
        outputs: [Text]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        node.Set(Text, node.NewMessage(node.Text(InputValue)));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Text Output: an output node returning its input's text as a Message; not stored.</summary>
internal sealed class TextOutputComponent : Component
{
    static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
    static readonly OutputSpec Text = new("text", "Message");

    public override ComponentSpec Spec { get; } = new(
        "TextOutput",
        typeNames: ["TextOutput"],
        classNames: ["TextOutputComponent"],
        inputs: [InputValue],
        outputs: [Text]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var message = node.NewMessage(node.Text(InputValue));
        node.ChargeOutput(node.NodeId, message.Text);
        node.Set(Text, message);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Webhook (format §4.7): its <c>data</c> payload parsed as JSON; invalid JSON becomes <c>{"payload": raw}</c>, empty <c>{}</c>.</summary>
internal sealed class WebhookComponent : Component
{
    static readonly InputSpec Payload = new("data", InputKind.Text, "");
    static readonly OutputSpec OutputData = new("output_data", "Data");

    public override ComponentSpec Spec { get; } = new(
        "Webhook",
        typeNames: ["Webhook"],
        classNames: ["WebhookComponent"],
        inputs: [Payload],
        outputs: [OutputData]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var raw = node.Text(Payload);
        Data data;
        if (string.IsNullOrWhiteSpace(raw))
        {
            data = Data.Empty;
        }
        else
        {
            try
            {
                data = new Data(JsonValues.Parse(raw));
            }
            catch (JsonException)
            {
                data = Data.FromPairs([new("payload", raw)]);
            }
        }

        node.Set(OutputData, data);
        return ValueTask.CompletedTask;
    }
}
