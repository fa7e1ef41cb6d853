using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.InputOutput;

/// <summary>
/// Chat Input (format §4.1): the user's message. Stored in session memory when the session id is non-empty and
/// <c>should_store_message</c> is on; the stored copy (with its id) flows on and is announced as <c>add_message</c>.
/// </summary>
internal sealed class ChatInputComponent : Component
{
    static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
    static readonly InputSpec ShouldStore = new("should_store_message", InputKind.Bool, true);
    static readonly InputSpec Sender = new("sender", InputKind.Text, MessageSenders.User);
    static readonly InputSpec SenderName = new("sender_name", InputKind.Text, "User");
    static readonly InputSpec SessionId = new("session_id", InputKind.Text, "");
    static readonly InputSpec ContextId = new("context_id", InputKind.Text, "");
    static readonly InputSpec Files = new("files", InputKind.Files);
    static readonly OutputSpec Message = new("message", "Message");

    public override ComponentSpec Spec { get; } = new(
        "ChatInput",
        typeNames: ["ChatInput"],
        classNames: ["ChatInput"],
        inputs: [InputValue, ShouldStore, Sender, SenderName, SessionId, ContextId, Files],
        outputs: [Message]);

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var sessionId = node.Text(SessionId) is { Length: > 0 } own ? own : node.SessionId;
        var message = node.NewMessage(node.Text(InputValue)) with
        {
            Sender = node.Text(Sender),
            SenderName = node.Text(SenderName),
            SessionId = sessionId,
            ContextId = node.Text(ContextId),
            Files = [.. node.List(Files).Select(TextConversion.AsText).Where(path => path.Length > 0)],
        };
        if (sessionId.Length > 0 && node.Bool(ShouldStore))
        {
            message = await node.StoreMessageAsync(message, announce: true);
        }

        node.Set(Message, message);
    }
}
