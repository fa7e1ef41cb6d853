using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Processing;

/// <summary>
/// Message History / Memory (format §4.5). Retrieve: the session's last <c>n_messages</c> (error messages excluded,
/// filtered by sender and name), as text through <c>template</c> and as a table. The current run's own messages
/// are excluded, which makes Langflow's ChatInput/Memory race deterministic: history is what came before this turn.
/// Store: saves the incoming message under the session.
/// </summary>
internal sealed class MemoryComponent : Component
{
    static readonly InputSpec Mode = new("mode", InputKind.Text, "Retrieve");
    static readonly InputSpec MessageInput = new("message", InputKind.Message);
    static readonly InputSpec ExternalMemory = new("memory", InputKind.Handle);
    static readonly InputSpec SenderType = new("sender_type", InputKind.Text, "Machine and User");
    static readonly InputSpec Sender = new("sender", InputKind.Text, "Machine and User");
    static readonly InputSpec SenderName = new("sender_name", InputKind.Text, "");
    static readonly InputSpec MessageCount = new("n_messages", InputKind.Int, 100L);
    static readonly InputSpec SessionId = new("session_id", InputKind.Text, "");
    static readonly InputSpec ContextId = new("context_id", InputKind.Text, "");
    static readonly InputSpec Order = new("order", InputKind.Text, "Ascending");
    static readonly InputSpec Template = new("template", InputKind.Text, "{sender_name}: {text}");
    static readonly OutputSpec MessagesText = new("messages_text", "Message");
    static readonly OutputSpec Table = new("dataframe", "DataFrame");
    static readonly OutputSpec StoredMessages = new("stored_messages", "Message");

    public override ComponentSpec Spec { get; } = new(
        "Memory",
        typeNames: ["Memory", "MessageHistory"],
        classNames: ["MemoryComponent"],
        inputs: [Mode, MessageInput, ExternalMemory, SenderType, Sender, SenderName, MessageCount, SessionId, ContextId, Order, Template],
        outputs: [MessagesText, Table, StoredMessages]);

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.SessionMemory);
        if (node.IsConnected(ExternalMemory))
        {
            node.Report(ReportIssue.Error(
                IssueCodes.UnsupportedComponent,
                $"\"{node.NodeId}\": external memories are not supported; disconnect the External Memory input to use the platform's session memory.",
                node.NodeId,
                ExternalMemory.Name));
        }

        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var sessionId = node.Text(SessionId) is { Length: > 0 } own ? own : node.SessionId;
        if (node.Text(Mode) == "Store")
        {
            await StoreAsync(node, sessionId);
            return;
        }

        var messages = await RetrieveAsync(node, sessionId);
        if (node.IsRequested(MessagesText))
        {
            var template = node.Text(Template);
            var lines = messages.Select(message => PythonFormat.Format(template, (string key, out bool found) =>
            {
                var value = Field(message, key);
                found = value is not null;
                return value;
            }));
            node.Set(MessagesText, node.NewMessage(string.Join("\n", lines)));
        }

        if (node.IsRequested(Table))
        {
            node.Set(Table, AsTable(messages));
        }
    }

    static async ValueTask<IReadOnlyList<Message>> RetrieveAsync(NodeExecution node, string sessionId)
    {
        var count = node.Int(MessageCount);
        if (count <= 0)
        {
            return [];
        }

        // Newer exports filter by sender_type and use sender for Store mode; older ones filter by sender.
        var filter = node.HasField(SenderType.Name) ? node.Text(SenderType) : node.Text(Sender);
        var query = new MessageQuery(
            sessionId,
            ContextId: node.Text(ContextId),
            Sender: filter is MessageSenders.User or MessageSenders.Machine ? filter : null,
            SenderName: node.Text(SenderName) is { Length: > 0 } name ? name : null,
            Limit: (int)Math.Min(count, 10_000),
            Descending: node.Text(Order) == "Descending",
            ExcludeRunId: node.RunId);
        return await node.Services.Messages.GetAsync(query, node.Cancellation);
    }

    static async ValueTask StoreAsync(NodeExecution node, string sessionId)
    {
        var incoming = node.Value(MessageInput);
        var message = incoming as Message ?? node.NewMessage(TextConversion.AsText(incoming));
        var sender = node.Text(Sender);
        message = message with
        {
            SessionId = sessionId,
            ContextId = node.Text(ContextId) is { Length: > 0 } context ? context : message.ContextId,
            Sender = sender is MessageSenders.User or MessageSenders.Machine ? sender : message.Sender ?? MessageSenders.Machine,
            SenderName = node.Text(SenderName) is { Length: > 0 } name ? name : message.SenderName ?? "AI",
        };
        var stored = await node.StoreMessageAsync(message, announce: false);
        node.Set(StoredMessages, stored);
    }

    /// <summary>The fields a memory template can use: Langflow's message data keys.</summary>
    static object? Field(Message message, string key) => key switch
    {
        "text" => message.Text,
        "sender" => message.Sender,
        "sender_name" => message.SenderName,
        "session_id" => message.SessionId,
        "context_id" => message.ContextId,
        "timestamp" => MessageFields.Timestamp(message),
        "flow_id" => message.FlowId,
        "id" => message.Id,
        "category" => message.Category,
        "error" => message.Error,
        "files" => System.Text.Json.JsonSerializer.SerializeToElement(message.Files.ToArray()),
        _ => null,
    };

    /// <summary>A message table: the leading columns of Langflow's message data, which is what a prompt can use.</summary>
    internal static DataFrame AsTable(IEnumerable<Message> messages) => new([.. messages.Select(message => Data.FromPairs(
    [
        new("timestamp", MessageFields.Timestamp(message)),
        new("sender", message.Sender),
        new("sender_name", message.SenderName),
        new("session_id", message.SessionId),
        new("text", message.Text),
    ]))]);
}
