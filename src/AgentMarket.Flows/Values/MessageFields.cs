using System.Globalization;

namespace AgentMarket.Flows.Values;

/// <summary>A message as Langflow's Data view of it (a Message is a Data subclass there), for templates that read its keys.</summary>
internal static class MessageFields
{
    public const string TimestampFormat = "yyyy-MM-dd HH:mm:ss 'UTC'";

    public static Data ToData(Message message) => Data.FromPairs(
    [
        new("timestamp", Timestamp(message)),
        new("sender", message.Sender),
        new("sender_name", message.SenderName),
        new("session_id", message.SessionId),
        new("context_id", message.ContextId),
        new("text", message.Text),
        new("files", message.Files),
        new("error", message.Error),
        new("edit", message.Edit),
        new("category", message.Category),
        new("id", message.Id),
        new("flow_id", message.FlowId),
    ]);

    /// <summary>Langflow's stored timestamp form, <c>2025-06-16 19:58:23 UTC</c>.</summary>
    public static string Timestamp(Message message) => message.Timestamp.UtcDateTime.ToString(TimestampFormat, CultureInfo.InvariantCulture);
}
