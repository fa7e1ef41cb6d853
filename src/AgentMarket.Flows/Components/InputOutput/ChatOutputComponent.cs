using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.InputOutput;

/// <summary>
/// Chat Output (format §4.2): turns its input (Message, Data, DataFrame, text or a list of them) into the answer
/// message, records which node produced it, counts it against the output limit and stores it in session memory.
/// A Message that did not come straight from a Chat Input is reused (keeping its id), as Langflow does.
/// </summary>
internal sealed class ChatOutputComponent : Component
{
    static readonly InputSpec InputValue = new("input_value", InputKind.Handle);
    static readonly InputSpec ShouldStore = new("should_store_message", InputKind.Bool, true);
    static readonly InputSpec Sender = new("sender", InputKind.Text, MessageSenders.Machine);
    static readonly InputSpec SenderName = new("sender_name", InputKind.Text, "AI");
    static readonly InputSpec SessionId = new("session_id", InputKind.Text, "");
    static readonly InputSpec ContextId = new("context_id", InputKind.Text, "");
    static readonly InputSpec DataTemplate = new("data_template", InputKind.Text, "{text}");
    static readonly InputSpec CleanData = new("clean_data", InputKind.Bool, true);
    static readonly OutputSpec Message = new("message", "Message");

    public override ComponentSpec Spec { get; } = new(
        "ChatOutput",
        typeNames: ["ChatOutput"],
        classNames: ["ChatOutput"],
        inputs: [InputValue, ShouldStore, Sender, SenderName, SessionId, ContextId, DataTemplate, CleanData],
        outputs: [Message]);

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var input = node.Value(InputValue) ?? throw new FlowComponentException(RunErrorCodes.ComponentError, "Input data cannot be None.");
        var text = input is IReadOnlyList<object?> items
            ? string.Join("\n", items.Select(item => TextConversion.SafeConvert(item, node.Bool(CleanData))))
            : TextConversion.SafeConvert(input, cleanData: false);
        var source = node.SourceOf(InputValue);
        Message message;
        string? existingSession = null;
        if (input is Message incoming && source is not null && (source.Role & NodeRole.ChatInput) == 0)
        {
            message = incoming with { Text = text };
            existingSession = incoming.SessionId;
        }
        else
        {
            message = node.NewMessage(text);
        }

        var ownSession = node.Text(SessionId);
        var sessionId = ownSession.Length > 0 ? ownSession : existingSession is { Length: > 0 } ? existingSession : node.SessionId;
        var modelName = (input as Message)?.Properties.Source?.Source;
        message = message with
        {
            Sender = node.Text(Sender),
            SenderName = node.Text(SenderName),
            SessionId = sessionId,
            ContextId = node.Text(ContextId),
            FlowId = node.Run.FlowId,
            Properties = message.Properties with
            {
                Source = new MessageSource(source?.Id, source?.DisplayName, modelName),
                State = "complete",
            },
        };
        node.ChargeOutput(message.Id ?? node.NodeId, message.Text);
        if (sessionId.Length > 0 && node.Bool(ShouldStore))
        {
            // A message that already has an id was announced when it was stored (a streamed model answer): no second add_message.
            message = await node.StoreMessageAsync(message, announce: message.Id is null);
        }

        node.Set(Message, message);
    }
}
