using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Services;

/// <summary>
/// Session memory: Langflow's message table (format §4.5). ChatInput, ChatOutput and streamed model messages are
/// saved; Memory and Agent nodes read a session's history. Keyed by session (and context), not by flow.
/// </summary>
public interface IMessageStore
{
    /// <summary>
    /// Inserts the message, or replaces the stored one with the same <see cref="Message.Id"/>; assigns an id when it
    /// has none and returns the stored copy. <paramref name="runId"/> lets reads exclude the current run's writes.
    /// </summary>
    ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken);

    /// <summary>The session's messages that match <paramref name="query"/>, oldest first unless it says otherwise.</summary>
    ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken);
}

/// <summary>Which stored messages to read.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="ContextId">An extra partition; empty or null reads all.</param>
/// <param name="Sender">Only this sender (<c>User</c>/<c>Machine</c>), or null for both.</param>
/// <param name="SenderName">Only this sender name, or null.</param>
/// <param name="Limit">Keep the most recent <c>Limit</c> messages; null keeps all.</param>
/// <param name="Descending">Newest first.</param>
/// <param name="ExcludeRunId">Leave out messages saved by this run (memory reads the history before the current turn).</param>
public sealed record MessageQuery(
    string SessionId,
    string? ContextId = null,
    string? Sender = null,
    string? SenderName = null,
    int? Limit = null,
    bool Descending = false,
    string? ExcludeRunId = null);

/// <summary>An in-process message store: for the CLI, tests and benchmarks. Thread-safe; unbounded, so not for production.</summary>
public sealed class InMemoryMessageStore : IMessageStore
{
    readonly Lock _gate = new();
    readonly List<(Message Message, string RunId)> _messages = [];
    long _nextId;

    /// <inheritdoc />
    public ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var stored = message.Id is null ? message with { Id = $"{Interlocked.Increment(ref _nextId):D8}-{Guid.NewGuid():N}" } : message;
            var existing = _messages.FindIndex(entry => entry.Message.Id == stored.Id);
            if (existing >= 0)
            {
                _messages[existing] = (stored, _messages[existing].RunId);
            }
            else
            {
                _messages.Add((stored, runId));
            }

            return ValueTask.FromResult(stored);
        }
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            IEnumerable<Message> matching = _messages
                .Where(entry => entry.RunId != query.ExcludeRunId || query.ExcludeRunId is null)
                .Select(entry => entry.Message)
                .Where(message => message.SessionId == query.SessionId && !message.Error && message.Category != "error")
                .Where(message => string.IsNullOrEmpty(query.ContextId) || message.ContextId == query.ContextId)
                .Where(message => query.Sender is null || message.Sender == query.Sender)
                .Where(message => string.IsNullOrEmpty(query.SenderName) || message.SenderName == query.SenderName)
                .OrderBy(message => message.Timestamp);
            var list = matching.ToList();
            if (query.Limit is { } limit && list.Count > limit)
            {
                list = list.GetRange(list.Count - limit, limit);
            }

            if (query.Descending)
            {
                list.Reverse();
            }

            return ValueTask.FromResult<IReadOnlyList<Message>>(list);
        }
    }

    /// <summary>Every stored message in insertion order (for tests and the CLI).</summary>
    public IReadOnlyList<Message> Snapshot()
    {
        lock (_gate)
        {
            return [.. _messages.Select(entry => entry.Message)];
        }
    }
}
