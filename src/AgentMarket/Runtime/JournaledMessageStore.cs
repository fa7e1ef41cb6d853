using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;

namespace AgentMarket.Runtime;

/// <summary>
/// Session memory for one gateway run whose writes wait for the run journal: the run's messages are kept here and
/// written with the run's record and payment, in one transaction, instead of one transaction per message, and only if
/// the run succeeds (ADR-160). Reads see the stored history plus what this run saved so far, as they would if every
/// save had been written at once.
/// </summary>
sealed class JournaledMessageStore(DatabaseMessageStore stored) : IMessageStore
{
    readonly Lock _gate = new();
    readonly List<SessionMessage> _pending = [];

    /// <summary>The messages to write with the run, in the order they were first saved.</summary>
    public IReadOnlyList<SessionMessage> Pending
    {
        get
        {
            lock (_gate)
            {
                return [.. _pending];
            }
        }
    }

    public async ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken)
    {
        var saved = message.Id is null ? message with { Id = Guid.CreateVersion7().ToString("N") } : message;
        lock (_gate)
        {
            var earlier = _pending.FindIndex(m => m.MessageId == saved.Id);
            if (earlier >= 0)
            {
                // A re-save (a streamed answer completing) replaces this run's copy but keeps when it was first saved.
                _pending[earlier] = stored.Row(saved with { Timestamp = new DateTimeOffset(_pending[earlier].CreatedUtc, TimeSpan.Zero) }, _pending[earlier].RunId);
                return saved;
            }
            if (message.Id is null)
            {
                _pending.Add(stored.Row(saved, runId));
                return saved;
            }
        }
        // A message with an id this run never saved belongs to an earlier run: update it where it is.
        return await stored.SaveAsync(message, runId, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken)
    {
        var history = await stored.GetAsync(query, cancellationToken);
        List<Message> mine;
        lock (_gate)
        {
            mine = _pending.Where(m => DatabaseMessageStore.Matches(m, query)).Select(DatabaseMessageStore.ToMessage).ToList();
        }
        if (mine.Count == 0)
        {
            return history;
        }
        // This run's messages are newer than anything stored: append them, then keep the most recent Limit.
        var oldestFirst = query.Descending ? history.Reverse().Concat(mine) : history.Concat(mine);
        var all = oldestFirst.ToList();
        var recent = query.Limit is { } limit && all.Count > limit ? all.GetRange(all.Count - limit, limit) : all;
        if (query.Descending)
        {
            recent.Reverse();
        }
        return recent;
    }
}
