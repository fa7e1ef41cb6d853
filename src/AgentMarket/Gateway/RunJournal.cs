using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Economics;
using AgentMarket.Runtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Gateway;

/// <summary>
/// A finished run's bookkeeping: its payment, the run record, the session's memory and spend, and the key's spend.
/// </summary>
/// <param name="Counted">
/// Whether the run counts in the figures derived from runs (social proof, economics, platform metrics); runs refused
/// before they started do not: they are not runs of the agent.
/// </param>
sealed record JournalEntry(AgentRun Run, bool RecordExists, bool Counted)
{
    /// <summary>
    /// The ledger operation that resolves the run's payment — settle or void its reservation, or the promotions account
    /// paying for a trial — applied in the transaction that records the run. When it does not succeed (a reservation the
    /// expiry job already voided), the run is recorded as charging nothing.
    /// </summary>
    public LedgerCommand? Payment { get; init; }

    /// <summary>The messages the run added to its session's memory, written with the run.</summary>
    public IReadOnlyList<SessionMessage> Messages { get; init; } = [];
}

/// <summary>
/// Records finished runs with group commit, as the ledger writes transfers: concurrent runs' bookkeeping — payments,
/// run records, session memory and spend, key spend — is written in batches, one transaction each, and every request
/// waits for its own entry, so what a client reads after its answer (its balance, usage, the session's memory and
/// spend) is already there. One transaction per batch, instead of one for the settle and one for the record of every
/// run, is most of what the gateway's overhead comes down to (docs/benchmarks.md). The figures derived from runs are
/// added right after, by <see cref="RunProjector"/>, from the work list each batch writes (ADR-052).
/// </summary>
sealed class RunJournal(
    IServiceScopeFactory scopes, LedgerWriter ledger, DatabaseConnection database, GatewayCache cache, RunProjector projector, TimeProvider clock, ILogger<RunJournal> logger)
    : GroupCommit<JournalEntry, LedgerResult?>(maxBatch: 256, capacity: 50_000, drainOnStop: true, logger)
{
    /// <summary>Queues the entry and waits until it is written; returns what its payment did (null without one).</summary>
    public Task<LedgerResult?> RecordAsync(JournalEntry entry, CancellationToken ct) => EnqueueAsync(entry, ct);

    protected override string Describe(JournalEntry item) => $"run {item.Run.Id}";

    protected override async Task<LedgerResult?[]> WriteAsync(IReadOnlyList<JournalEntry> batch)
    {
        // What the engine produced (a model's answer, a parsed payload) may hold U+0000, which PostgreSQL refuses: one
        // such run would fail its whole batch, unrecorded and unpaid. Its session messages are made storable as rows.
        foreach (var run in batch.Select(e => e.Run))
        {
            run.Output = StoredText.Storable(run.Output);
            run.Model = StoredText.Storable(run.Model);
            run.ErrorCode = StoredText.Storable(run.ErrorCode);
        }
        // Payments the ledger refused (a reservation the expiry job voided first: the run ran free). The batch is written
        // again without them, its runs recorded as charging nothing, so what a record says always matches the ledger.
        var refused = new Dictionary<int, LedgerResult>();
        while (true)
        {
            var payments = await TryWriteAsync(batch, refused);
            if (payments is not null)
            {
                return payments;
            }
        }
    }

    /// <summary>Writes the batch in one transaction; null (rolled back) when the ledger refused a payment not yet in <paramref name="refused"/>.</summary>
    async Task<LedgerResult?[]?> TryWriteAsync(IReadOnlyList<JournalEntry> batch, Dictionary<int, LedgerResult> refused)
    {
        var paying = Enumerable.Range(0, batch.Count).Where(i => batch[i].Payment is not null && !refused.ContainsKey(i)).ToList();
        var commands = paying.ConvertAll(i => batch[i].Payment!);
        await ledger.EnsureAccountsAsync(commands);
        foreach (var i in refused.Keys)
        {
            batch[i].Run.CreditsCharged = 0;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        using var turn = await database.WriterTurnAsync();
        // Any failure rolls the whole batch back, so EF Core's savepoint around SaveChanges would only add round trips.
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync();
        // Runs claimed earlier by their Idempotency-Key are updated, and webhook events queued, through EF Core.
        db.AgentRuns.UpdateRange(batch.Where(e => e.RecordExists).Select(e => e.Run));
        await Webhooks.WebhookEvents.RunsFinishedAsync(db, [.. batch.Select(e => e.Run)], organization => cache.WebhookEventsAsync(organization, CancellationToken.None), now);
        await db.SaveChangesAsync();

        // New rows go in one statement per table (EF Core's SQLite provider would send one per row), with the sessions'
        // and keys' spend; on PostgreSQL all in one round trip with the ledger's reads. The ledger comes last: on
        // PostgreSQL its account rows stay locked until the commit, and the wallet's row is the one every reserve of the
        // organization needs too.
        await using var writes = new StatementBatch(db.Database.GetDbConnection(), transaction.GetDbTransaction());
        writes.AddInsert(db, batch.Where(e => !e.RecordExists).Select(e => e.Run).ToList());
        writes.AddInsert(db, batch.SelectMany(e => e.Messages).ToList());
        writes.AddInsert(db, batch.Where(e => e.Counted).Select(e => new UnprojectedRun { RunId = e.Run.Id }).ToList());
        AddSpend(writes, db, batch, now);
        var results = await ledger.ApplyWithinAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), commands, before: writes);
        await writes.ExecuteAsync(); // already sent with the ledger's reads, so nothing more; the records do not rely on that
        var payments = new LedgerResult?[batch.Count];
        foreach (var (i, result) in refused)
        {
            payments[i] = result;
        }
        for (var n = 0; n < paying.Count; n++)
        {
            var (i, result) = (paying[n], results[n]);
            payments[i] = result;
            Admin.Metrics.PlatformMeters.LedgerOperation(commands[n].Kind.ToString(), result.Replayed ? "replayed" : result.Status.ToString());
            if (!result.Succeeded)
            {
                logger.LogWarning("Run {RunId} was not charged: {Status}", batch[i].Run.Id, result.Status);
                refused[i] = result;
            }
        }
        if (paying.Any(i => !payments[i]!.Succeeded))
        {
            return null; // disposing the transaction rolls it back
        }
        await transaction.CommitAsync();
        var counted = Enumerable.Range(0, batch.Count).Where(i => batch[i].Counted)
            .Select(i => new JournaledRun(batch[i].Run.WithoutOutput(), PaymentOf(batch[i], payments[i]))).ToList();
        if (counted.Count > 0)
        {
            projector.Journaled(counted);
        }
        return payments;
    }

    /// <summary>
    /// What paid for the run as this batch applied it; null when the figures must read it from the ledger: no payment
    /// here (reported runs, settled before they are recorded; runs nobody pays for, where the read finds nothing) or a
    /// replay, which moved nothing this time.
    /// </summary>
    static RunPayment? PaymentOf(JournalEntry entry, LedgerResult? result) =>
        entry.Payment is { } payment && result is { Replayed: false } ? new RunPayment(payment.Kind, result.Moved) : null;

    static readonly CounterTable ChatSessions = new("chat_sessions", ["config_id", "session_id"], ["credits_spent", "runs"])
    {
        InsertOnly = ["id", "organization_id", "created_utc"],
        Latest = ["last_activity_utc"],
    };

    /// <summary>The sessions' and keys' spend: one statement for the batch's sessions and one per key, however many runs they had.</summary>
    static void AddSpend(StatementBatch statements, AppDbContext db, IReadOnlyList<JournalEntry> batch, DateTime now)
    {
        // In one order everywhere, so concurrent batches on PostgreSQL lock the sessions' and keys' rows in the same order.
        var sessions = batch.Select(e => e.Run).Where(r => r.ConfigId is not null && r.Status == AgentRunStatus.Succeeded)
            .GroupBy(r => (Organization: r.OrganizationId, Config: r.ConfigId!.Value, Session: r.SessionId))
            .OrderBy(g => g.Key.Config).ThenBy(g => g.Key.Session, StringComparer.Ordinal);
        // One upsert on both databases, so concurrent batches' runs of one session add up instead of racing an insert.
        statements.AddToCounters(db, ChatSessions, sessions
            .Select(g => (object[])[g.Key.Config, g.Key.Session, Guid.CreateVersion7(), g.Key.Organization, now, now, g.Sum(r => r.CreditsCharged), g.Count()])
            .ToList());
        var mappings = db.GetService<IRelationalTypeMappingSource>();
        foreach (var key in batch.Select(e => e.Run).Where(r => r.KeyId is not null && r.CreditsCharged > 0).GroupBy(r => r.KeyId!.Value).OrderBy(g => g.Key))
        {
            var spent = key.Sum(r => r.CreditsCharged);
            var update = statements.Add();
            update.CommandText = "UPDATE api_keys SET spent_credits = spent_credits + @spent WHERE id = @id";
            update.Parameters.Add(mappings.GetMappingForValue(spent).CreateParameter(update, "@spent", spent));
            update.Parameters.Add(mappings.GetMappingForValue(key.Key).CreateParameter(update, "@id", key.Key));
        }
    }
}
