using System.Threading.Channels;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Gateway;

/// <summary>A finished run's bookkeeping: the run record, the session's and key's spend, and the facts behind social proof.</summary>
/// <param name="Facts">For social proof; null for runs refused before they started (they are not runs of the agent).</param>
public sealed record JournalEntry(AgentRun Run, bool RecordExists, FinishedRun? Facts, long Charged);

/// <summary>
/// Records finished runs with group commit, as the ledger writes transfers: concurrent runs' bookkeeping — run records,
/// session and key spend, social-proof facts — is written in batches, one transaction each, and every request waits for
/// its own entry, so what a client reads after its answer (usage, the session's spend) is already there.
/// </summary>
public sealed class RunJournal(IServiceScopeFactory scopes, TimeProvider clock, ILogger<RunJournal> logger) : IHostedService, IAsyncDisposable
{
    const int MaxBatch = 256;

    sealed record Pending(JournalEntry Entry)
    {
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(50_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    readonly Lock _startLock = new();
    Task? _loop;
    int _stopped;

    /// <summary>Queues the entry and waits until it is written.</summary>
    public async Task RecordAsync(JournalEntry entry, CancellationToken ct)
    {
        EnsureRunning();
        var pending = new Pending(entry);
        await _queue.Writer.WriteAsync(pending, ct);
        await pending.Written.Task.WaitAsync(ct);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureRunning();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }
        // Write what is queued before the process goes.
        _queue.Writer.TryComplete();
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);

    void EnsureRunning()
    {
        if (_loop is not null)
        {
            return;
        }
        lock (_startLock)
        {
            _loop ??= Task.Run(RunAsync);
        }
    }

    async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }
            try
            {
                await WriteAsync(batch.ConvertAll(p => p.Entry));
                batch.ForEach(p => p.Written.TrySetResult());
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Could not record {Count} finished runs", batch.Count);
                batch.ForEach(p => p.Written.TrySetException(exception));
            }
        }
    }

    async Task WriteAsync(List<JournalEntry> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync();
        foreach (var entry in batch)
        {
            if (entry.RecordExists)
            {
                db.AgentRuns.Update(entry.Run);
            }
            else
            {
                db.AgentRuns.Add(entry.Run);
            }
        }
        await Webhooks.WebhookEvents.RunsFinishedAsync(db, batch.ConvertAll(e => e.Run), now, CancellationToken.None);
        await db.SaveChangesAsync();
        // Runs refused before they started carry no facts: they are not runs of the agent.
        var added = await scope.ServiceProvider.GetRequiredService<Providers.Economics.EconomicsRollups>()
            .AddAsync(batch.Where(e => e.Facts is not null).Select(e => e.Run).ToList(), CancellationToken.None);
        await scope.ServiceProvider.GetRequiredService<Admin.PlatformMetrics.PlatformRollups>().AddAsync(added, CancellationToken.None);
        foreach (var entry in batch)
        {
            var run = entry.Run;
            if (run.ConfigId is { } config && run.Status == AgentRunStatus.Succeeded)
            {
                // One statement on both databases, so concurrent runs of one session add up instead of racing an insert.
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO chat_sessions (id, organization_id, config_id, session_id, credits_spent, runs, created_utc, last_activity_utc)
                    VALUES ({Guid.CreateVersion7()}, {run.OrganizationId}, {config}, {run.SessionId}, {entry.Charged}, 1, {now}, {now})
                    ON CONFLICT (config_id, session_id) DO UPDATE SET
                        credits_spent = chat_sessions.credits_spent + excluded.credits_spent,
                        runs = chat_sessions.runs + 1,
                        last_activity_utc = excluded.last_activity_utc
                    """);
            }
            if (run.KeyId is { } key && entry.Charged > 0)
            {
                await db.ApiKeys.Where(k => k.Id == key).ExecuteUpdateAsync(s => s.SetProperty(k => k.SpentCredits, k => k.SpentCredits + entry.Charged));
            }
        }
        await scope.ServiceProvider.GetRequiredService<RunFacts>().RecordManyAsync(batch.Select(e => e.Facts).OfType<FinishedRun>().ToList(), CancellationToken.None);
        await transaction.CommitAsync();
    }
}
