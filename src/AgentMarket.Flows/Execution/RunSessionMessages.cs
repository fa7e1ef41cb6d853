using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// The run's one way into session memory. The host separates callers by the run's session (a widget or playground
/// visitor's is namespaced by their cookie), but a node may name a session of its own (a Chat Input, Chat Output or
/// Memory node's <c>session_id</c>): a fixed one in the flow would be shared by every caller. So a session a node names
/// lives under the run's: <c>{run session}/{own}</c>. Messages read back carry that scoped id, so passing one on scopes
/// nothing twice.
/// </summary>
internal sealed class RunSessionMessages(IMessageStore inner, string runSession) : IMessageStore
{
    public ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken) =>
        inner.SaveAsync(message with { SessionId = Scoped(message.SessionId) }, runId, cancellationToken);

    public ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken) =>
        inner.GetAsync(query with { SessionId = Scoped(query.SessionId) }, cancellationToken);

    /// <summary>The session as stored: the run's own, or one a node named, under the run's.</summary>
    public string Scoped(string session) =>
        runSession.Length == 0 || session.Length == 0 || session == runSession || session.StartsWith(runSession + "/", StringComparison.Ordinal)
            ? session
            : $"{runSession}/{session}";
}
