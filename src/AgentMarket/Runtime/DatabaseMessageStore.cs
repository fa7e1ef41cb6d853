using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Runtime;

/// <summary>
/// Session memory for one subscription's runs, in the database: only that subscription's messages are ever read or
/// written, whatever session id the client sends (the tenant filter applies too: the factory's contexts belong to the
/// request's scope). Uses a DbContext per call because a run's independent branches may save and read at once.
/// </summary>
sealed class DatabaseMessageStore(IDbContextFactory<AppDbContext> contexts, Guid organizationId, Guid partitionId, TimeProvider clock) : IMessageStore
{
    public async ValueTask<Message> SaveAsync(Message message, string runId, CancellationToken cancellationToken)
    {
        var isNew = message.Id is null;
        var stored = isNew ? message with { Id = Guid.CreateVersion7().ToString("N") } : message;
        var row = Row(stored, runId);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // A message without an id is new: one insert. One with an id is a re-save (a streamed answer completing).
        var updated = isNew ? 0 : await db.SessionMessages
            .Where(m => m.PartitionId == partitionId && m.OrganizationId == organizationId && m.MessageId == row.MessageId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Text, row.Text)
                .SetProperty(m => m.Sender, row.Sender)
                .SetProperty(m => m.SenderName, row.SenderName)
                .SetProperty(m => m.Category, row.Category)
                .SetProperty(m => m.Error, row.Error), cancellationToken);
        if (updated == 0)
        {
            db.SessionMessages.Add(row);
            await db.SaveChangesAsync(cancellationToken);
        }
        return stored;
    }

    /// <summary>
    /// The row that stores <paramref name="stored"/> (which has its id) for this subscription. Its text is made storable
    /// (<see cref="StoredText.Storable"/>): a message is the flow's, and may hold a model's U+0000 or a parsed payload's.
    /// </summary>
    public SessionMessage Row(Message stored, string runId) => new()
    {
        OrganizationId = organizationId,
        PartitionId = partitionId,
        SessionId = StoredText.Storable(stored.SessionId),
        MessageId = StoredText.Storable(stored.Id!),
        ContextId = StoredText.Storable(stored.ContextId),
        Sender = StoredText.Storable(stored.Sender),
        SenderName = StoredText.Storable(stored.SenderName),
        Text = StoredText.Storable(stored.Text),
        Category = StoredText.Storable(stored.Category),
        Error = stored.Error,
        RunId = runId,
        CreatedUtc = stored.Timestamp == default ? clock.GetUtcNow().UtcDateTime : stored.Timestamp.UtcDateTime,
    };

    public async ValueTask<IReadOnlyList<Message>> GetAsync(MessageQuery query, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var messages = db.SessionMessages.AsNoTracking()
            .Where(m => m.PartitionId == partitionId && m.OrganizationId == organizationId && m.SessionId == query.SessionId && !m.Error && m.Category != "error")
            .Where(m => query.ExcludeRunId == null || m.RunId != query.ExcludeRunId)
            .Where(m => string.IsNullOrEmpty(query.ContextId) || m.ContextId == query.ContextId)
            .Where(m => query.Sender == null || m.Sender == query.Sender)
            .Where(m => string.IsNullOrEmpty(query.SenderName) || m.SenderName == query.SenderName);
        // The most recent N, returned oldest first unless asked otherwise.
        var recent = await messages.OrderByDescending(m => m.CreatedUtc).ThenByDescending(m => m.Id).Take(query.Limit ?? 1_000).ToListAsync(cancellationToken);
        if (!query.Descending)
        {
            recent.Reverse();
        }
        return recent.ConvertAll(ToMessage);
    }

    /// <summary>Whether <paramref name="m"/> is one <paramref name="query"/> reads (the same filter as the database query's).</summary>
    public static bool Matches(SessionMessage m, MessageQuery query) =>
        m.SessionId == query.SessionId && !m.Error && m.Category != "error"
        && (query.ExcludeRunId == null || m.RunId != query.ExcludeRunId)
        && (string.IsNullOrEmpty(query.ContextId) || m.ContextId == query.ContextId)
        && (query.Sender == null || m.Sender == query.Sender)
        && (string.IsNullOrEmpty(query.SenderName) || m.SenderName == query.SenderName);

    public static Message ToMessage(SessionMessage m) => new()
    {
        Id = m.MessageId,
        Text = m.Text,
        Sender = m.Sender,
        SenderName = m.SenderName,
        SessionId = m.SessionId,
        ContextId = m.ContextId,
        Category = m.Category,
        Timestamp = new DateTimeOffset(m.CreatedUtc, TimeSpan.Zero),
    };
}
