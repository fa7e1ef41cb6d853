using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers.Economics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Gateway;

/// <summary>
/// A finished run whose figures — social proof, the provider's and the platform's rollups — are not added yet. The
/// journal writes one with the run, in the run's transaction; <see cref="RunProjector"/> adds the figures and deletes
/// it in one transaction, so each run is counted exactly once, after a crash too.
/// </summary>
public sealed class UnprojectedRun
{
    public Guid RunId { get; init; }
}

sealed class UnprojectedRunConfiguration : IEntityTypeConfiguration<UnprojectedRun>
{
    public void Configure(EntityTypeBuilder<UnprojectedRun> e)
    {
        e.ToTable("unprojected_runs");
        e.HasKey(x => x.RunId);
    }
}

/// <summary>
/// A run the journal committed and counts (without its output), handed to the projector with what paid for it, so the
/// projector need not read either back. <see cref="Payment"/> is null when the journal did not apply one itself (a
/// replayed payment, or a reported run settled before it was recorded): the projector reads it from the ledger.
/// </summary>
public sealed record JournaledRun(AgentRun Run, RunPayment? Payment);

/// <summary>
/// Adds finished runs to the figures derived from them — the listing's social proof, the provider's economics and the
/// platform's metrics — right after the journal commits them, instead of inside the run's own transaction: a run's
/// answer waits only for what it must (its payment, record and memory), and the derived writes of many runs share one
/// batch (ADR-052). The work list is the <c>unprojected_runs</c> table, so nothing is lost when the process stops, and
/// on PostgreSQL replicas claim disjoint runs (<c>FOR UPDATE SKIP LOCKED</c>).
/// The journal also hands its committed runs over in memory, and those are projected from there: reading them and
/// their payments back cost more than half of a batch (docs/benchmarks.md, "Gateway"). A handed-over run is projected
/// only if its row is still listed when its batch claims it (a table read may have taken it first). The table is read
/// when the memory may not hold every listed run: at start (what a stopped process left), every few seconds however
/// busy (what another replica left), after a failed batch, and when too many runs wait.
/// Reads that report on a caller's own runs call <see cref="CaughtUpAsync"/> first: on this process, what the journal
/// committed before the read is in the figures the read sees.
/// </summary>
public sealed class RunProjector(IServiceScopeFactory scopes, RecordedRuns recorded, ILogger<RunProjector> logger)
    : BackgroundService
{
    const int MaxBatch = 512;

    /// <summary>How many handed-over runs wait in memory at most (a projector that keeps failing); the rest wait in the table only.</summary>
    const int MaxWaiting = 50_000;

    /// <summary>How long a read waits for the figures before it shows them as they are (a projector that keeps failing).</summary>
    static readonly TimeSpan CatchUpLimit = TimeSpan.FromSeconds(5);

    /// <summary>How often the table is looked at without a signal: runs other replicas, or a crash, left behind.</summary>
    static readonly TimeSpan Sweep = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a signal waits for more runs before they are projected, unless a read is waiting: one batch for the runs
    /// of a few milliseconds instead of a transaction per run when they come one at a time.
    /// </summary>
    static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(20);

    readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    readonly ConcurrentQueue<JournaledRun> _handedOver = new();
    volatile bool _tableMayHoldMore = true;
    long _tableReadAt = Environment.TickCount64;
    TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    TaskCompletionSource _readerWaiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    long _journaled;
    long _projected;

    /// <summary>The journal committed these runs, each listed in the table too.</summary>
    public void Journaled(IReadOnlyList<JournaledRun> runs)
    {
        // A soft bound: concurrent batches may pass it together by a few hundred runs.
        if (_handedOver.Count + runs.Count <= MaxWaiting)
        {
            foreach (var run in runs)
            {
                _handedOver.Enqueue(run);
            }
        }
        else
        {
            _tableMayHoldMore = true;
        }
        // After the runs are queued: a batch that reads this count finds them.
        Interlocked.Increment(ref _journaled);
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Waits until every run the journal committed before this call is in the figures (at most a few seconds).</summary>
    public async Task CaughtUpAsync(CancellationToken ct)
    {
        var target = Volatile.Read(ref _journaled);
        if (Volatile.Read(ref _projected) >= target)
        {
            return;
        }
        Volatile.Read(ref _readerWaiting).TrySetResult();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(CatchUpLimit);
        while (true)
        {
            var progress = Volatile.Read(ref _progress);
            if (Volatile.Read(ref _projected) >= target)
            {
                return;
            }
            try
            {
                await progress.Task.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning("Run figures are behind: showing them as they are");
                return;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Whatever the journal signalled before this point is queued here or listed in the table.
                var target = Volatile.Read(ref _journaled);
                // A batch shorter than the most there can be emptied the queue: every run queued before target was taken.
                while (await ProjectHandedOverAsync() == MaxBatch)
                {
                }
                if (_tableMayHoldMore || Environment.TickCount64 - _tableReadAt >= (long)Sweep.TotalMilliseconds)
                {
                    // Cleared before the table is read, so a reason to read it again that comes meanwhile is kept.
                    _tableMayHoldMore = false;
                    _tableReadAt = Environment.TickCount64;
                    while (await ProjectFromTableAsync() == MaxBatch)
                    {
                    }
                }
                Published(target);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The failed batch's runs left memory but are still listed in the table.
                _tableMayHoldMore = true;
                logger.LogError(e, "Projecting finished runs failed; retrying");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }
            using var sweep = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            sweep.CancelAfter(Sweep);
            try
            {
                await _signal.Reader.ReadAsync(sweep.Token);
                var readerWaiting = Volatile.Read(ref _readerWaiting);
                await Task.WhenAny(readerWaiting.Task, Task.Delay(Linger, stoppingToken));
                if (readerWaiting.Task.IsCompleted)
                {
                    // The reader's wish is served by the batch about to run; the next reader needs a fresh signal.
                    Interlocked.CompareExchange(ref _readerWaiting, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), readerWaiting);
                }
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    void Published(long target)
    {
        if (target <= Volatile.Read(ref _projected))
        {
            return;
        }
        Volatile.Write(ref _projected, target);
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Projects up to <see cref="MaxBatch"/> handed-over runs, claiming their rows in the table in the same transaction;
    /// those no longer listed (a table read, here or on another replica, projected them first) are left out. Returns how
    /// many were taken from the queue.
    /// </summary>
    async Task<int> ProjectHandedOverAsync()
    {
        var batch = new List<JournaledRun>(Math.Min(_handedOver.Count, MaxBatch));
        while (batch.Count < MaxBatch && _handedOver.TryDequeue(out var run))
        {
            batch.Add(run);
        }
        if (batch.Count == 0)
        {
            return 0;
        }
        await using var scope = scopes.CreateAsyncScope();
        var (db, turn) = await WriterAsync(scope.ServiceProvider);
        using (turn)
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var listed = (await ClaimAsync(db, batch.ConvertAll(r => r.Run.Id))).ToHashSet();
            var runs = batch.Where(r => listed.Contains(r.Run.Id)).ToList();
            if (runs.Count > 0)
            {
                var payments = runs.Where(r => r.Payment is not null).ToDictionary(r => r.Run.Id, r => r.Payment!);
                var facts = await ProjectAsync(scope.ServiceProvider, runs.ConvertAll(r => r.Run), payments);
                await transaction.CommitAsync();
                recorded.Remember(facts);
            }
        }
        return batch.Count;
    }

    /// <summary>
    /// Claims those of these runs that are still listed: deletes their rows and returns them, in one statement, in the
    /// caller's transaction. On PostgreSQL the delete waits for a replica's table read holding some of them until it has
    /// deleted them, and then leaves them out; SQLite has one writer, whose turn the caller holds. The ids go as a list
    /// of parameters, not an array, so PostgreSQL plans the lookup knowing how many there are (ADR-053).
    /// </summary>
    static Task<List<Guid>> ClaimAsync(AppDbContext db, List<Guid> ids)
    {
        var placeholders = string.Join(", ", ids.Select((_, i) => "{" + i + "}"));
        var delete = FormattableStringFactory.Create("DELETE FROM unprojected_runs WHERE run_id IN (" + placeholders + ") RETURNING run_id AS \"Value\"", [.. ids.Cast<object>()]);
        return db.Database.SqlQuery<Guid>(delete).ToListAsync();
    }

    /// <summary>Claims up to <see cref="MaxBatch"/> runs from the table by deleting their rows, and adds their figures, in one transaction; returns how many.</summary>
    async Task<int> ProjectFromTableAsync()
    {
        await using var scope = scopes.CreateAsyncScope();
        var (db, turn) = await WriterAsync(scope.ServiceProvider);
        using (turn)
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            // Claimed by deleting them, in this transaction: a failure below puts them back. On PostgreSQL, replicas
            // reading the table at once skip each other's rows.
            var claimed = scope.ServiceProvider.GetRequiredService<DatabaseConnection>().Provider == DatabaseProvider.Postgres
                ? await db.Database.SqlQuery<Guid>($"DELETE FROM unprojected_runs WHERE run_id IN (SELECT run_id FROM unprojected_runs ORDER BY run_id LIMIT {MaxBatch} FOR UPDATE SKIP LOCKED) RETURNING run_id AS \"Value\"").ToListAsync()
                : await db.Database.SqlQuery<Guid>($"DELETE FROM unprojected_runs WHERE run_id IN (SELECT run_id FROM unprojected_runs ORDER BY run_id LIMIT {MaxBatch}) RETURNING run_id AS \"Value\"").ToListAsync();
            if (claimed.Count == 0)
            {
                return 0;
            }
            // Everything but the output, which can be long and which no figure reads.
            var runs = await db.AgentRuns.AsNoTracking().Where(r => claimed.Contains(r.Id)).Select(r => new AgentRun
            {
                Id = r.Id,
                OrganizationId = r.OrganizationId,
                ConfigId = r.ConfigId,
                ListingId = r.ListingId,
                AgentVersionId = r.AgentVersionId,
                ProviderId = r.ProviderId,
                KeyId = r.KeyId,
                UserId = r.UserId,
                SessionId = r.SessionId,
                Door = r.Door,
                Trial = r.Trial,
                Status = r.Status,
                InputTokens = r.InputTokens,
                OutputTokens = r.OutputTokens,
                UsageSource = r.UsageSource,
                Model = r.Model,
                CreditsReserved = r.CreditsReserved,
                CreditsCharged = r.CreditsCharged,
                EngineMs = r.EngineMs,
                LatencyMs = r.LatencyMs,
                StartedUtc = r.StartedUtc,
                FinishedUtc = r.FinishedUtc,
                Day = r.Day,
            }).ToListAsync();
            // What paid for the runs is read from the ledger, where the journal applied it with the runs.
            var facts = await ProjectAsync(scope.ServiceProvider, runs, new Dictionary<Guid, RunPayment>());
            await transaction.CommitAsync();
            recorded.Remember(facts);
            return claimed.Count;
        }
    }

    static async Task<(AppDbContext Db, DatabaseConnection.WriterTurn Turn)> WriterAsync(IServiceProvider services)
    {
        services.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = services.GetRequiredService<AppDbContext>();
        return (db, await services.GetRequiredService<DatabaseConnection>().WriterTurnAsync());
    }

    /// <summary>
    /// Adds the runs to social proof, the provider's economics and the platform's metrics, in the caller's transaction.
    /// Free tries are left out of social proof (anyone can make them, a script without end: ADR-156), not out of the
    /// economics, where the promotions account's payments for them show.
    /// </summary>
    /// <returns>The runs social proof recorded, for <see cref="RecordedRuns.Remember"/> once the transaction commits.</returns>
    static async Task<IReadOnlyList<FinishedRun>> ProjectAsync(IServiceProvider services, IReadOnlyList<AgentRun> runs, IReadOnlyDictionary<Guid, RunPayment> payments)
    {
        // Runs a provider reports (ExternalUsage) are declared by the seller, not seen by the platform: they are billed and in
        // its economics, but social proof counts only runs the platform ran (SPEC §2, ADR-158).
        var facts = runs.Where(r => !r.Trial && r.Door != ExternalUsage.Door).Select(r => new FinishedRun(r.ListingId, r.OrganizationId, r.AgentVersionId,
            r.Status == AgentRunStatus.Succeeded ? RunOutcome.Completed : RunOutcome.Failed, r.StartedUtc, r.FinishedUtc ?? r.StartedUtc)).ToList();
        var recorded = await services.GetRequiredService<RunFacts>().RecordManyAsync(facts, CancellationToken.None);
        var added = await services.GetRequiredService<EconomicsRollups>().AddAsync(runs, payments, CancellationToken.None);
        await services.GetRequiredService<Admin.PlatformMetrics.PlatformRollups>().AddAsync(added, CancellationToken.None);
        return recorded;
    }
}
