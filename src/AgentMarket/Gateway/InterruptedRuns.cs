using AgentMarket.Credits.Ledger;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Gateway;

/// <summary>
/// Runs claimed by their <c>Idempotency-Key</c> whose process stopped before recording them: their record says running
/// for good. A retry with the same key finds one and records it failed (<see cref="RunGateway"/>); the sweeper records
/// the ones no client retries, so buyers' usage and the operator's run lists do not show them running forever.
/// </summary>
sealed class InterruptedRuns(AppDbContext db, CreditLedger ledger, IOptions<GatewayOptions> options, TimeProvider clock)
{
    /// <summary>The error code of a run abandoned when the process running it stopped.</summary>
    public const string Code = "run_interrupted";

    /// <summary>Claims older than this are abandoned: they outlived their reservation, so they could not be charged anyway.</summary>
    DateTime AbandonedBefore => clock.GetUtcNow().UtcDateTime.AddMinutes(-options.Value.ReservationMinutes);

    public bool Abandoned(AgentRun claimed) => claimed.StartedUtc <= AbandonedBefore;

    /// <summary>
    /// Records an abandoned run as failed with nothing charged, unless it finished meanwhile (false). Nothing was charged
    /// indeed: the journal writes a run's payment and its record in one transaction, so a record still running has no
    /// settle. Its reservation is voided first, under the expiry job's key: should the run still finish after all, its
    /// settle is refused and the journal records it as charging nothing, so a client told to retry with a new key does
    /// not pay twice.
    /// </summary>
    public async Task<bool> RecordAsync(AgentRun claimed, CancellationToken ct)
    {
        var reserveKey = $"run:{claimed.Id}:reserve";
        var reservation = await db.LedgerOperations.AsNoTracking().Where(o => o.IdempotencyKey == reserveKey).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(ct);
        if (reservation is { } reserved)
        {
            await ledger.VoidAsync($"void:{reserved}", claimed.OrganizationId, reserved, ct);
        }
        return await db.AgentRuns.Where(r => r.Id == claimed.Id && r.Status == AgentRunStatus.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(r => r.Status, AgentRunStatus.Failed)
                .SetProperty(r => r.ErrorCode, Code)
                .SetProperty(r => r.FinishedUtc, clock.GetUtcNow().UtcDateTime), ct) == 1;
    }

    /// <summary>
    /// Records up to <paramref name="limit"/> abandoned gateway runs as interrupted, the oldest first; returns how many.
    /// Reported usage is left alone: its claim may already have charged (reports charge before they record), and the
    /// runtime that reported it finishes it by reporting again (<see cref="ExternalUsage"/>).
    /// </summary>
    public async Task<int> RecordAbandonedAsync(int limit, CancellationToken ct)
    {
        var before = AbandonedBefore;
        var abandoned = await db.AgentRuns.AsNoTracking()
            .Where(r => r.Status == AgentRunStatus.Running && r.StartedUtc <= before && r.Door != ExternalUsage.Door)
            .OrderBy(r => r.StartedUtc).Take(limit).ToListAsync(ct);
        var recorded = 0;
        foreach (var run in abandoned)
        {
            recorded += await RecordAsync(run, ct) ? 1 : 0;
        }
        return recorded;
    }
}

/// <summary>Records abandoned runs as interrupted (<see cref="InterruptedRuns"/>) once a minute, on every replica (each record is conditional).</summary>
sealed class InterruptedRunSweeper(IServiceScopeFactory scopes, TimeProvider clock, ILogger<InterruptedRunSweeper> logger) : PeriodicJob
{
    const int BatchSize = 500;

    protected override TimeSpan Interval => TimeSpan.FromMinutes(1);

    protected override TimeProvider Clock => clock;

    protected override bool TicksAtStart => false;

    protected override string MetricName => "interrupted_runs";

    protected override Task TickAsync(CancellationToken ct) => SweepAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Recording interrupted runs failed; retrying next minute");

    /// <summary>Records every abandoned run, a batch at a time.</summary>
    public Task SweepAsync(CancellationToken ct) => RepeatWhileFullAsync(BatchSize, async () =>
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var recorded = await scope.ServiceProvider.GetRequiredService<InterruptedRuns>().RecordAbandonedAsync(BatchSize, ct);
        if (recorded > 0)
        {
            logger.LogWarning("Recorded {Count} runs abandoned by a stopped process as interrupted", recorded);
        }
        return recorded;
    });
}
