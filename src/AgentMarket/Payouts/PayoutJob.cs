using AgentMarket.Platform;
using AgentMarket.Platform.Tenancy;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payouts;

/// <summary>
/// Pays out last month from <see cref="PayoutsOptions.PayoutDayOfMonth"/> on, and retries Stripe transfers still owed.
/// Every effect is keyed by provider and period, so any number of instances and ticks pay each month once.
/// </summary>
sealed class PayoutJob(IServiceScopeFactory scopes, IOptions<PayoutsOptions> options, TimeProvider clock, ILogger<PayoutJob> logger) : PeriodicJob
{
    protected override TimeSpan Interval => TimeSpan.FromMinutes(options.Value.JobIntervalMinutes);

    protected override string MetricName => "payouts";

    protected override TimeProvider Clock => clock;

    protected override Task TickAsync(CancellationToken ct) => RunOnceAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Payout job failed; retrying next tick");

    public async Task RunOnceAsync(CancellationToken ct)
    {
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var runner = scope.ServiceProvider.GetRequiredService<PayoutRunner>();
        if (today.Day >= options.Value.PayoutDayOfMonth)
        {
            await runner.RunAsync(new DateOnly(today.Year, today.Month, 1).AddMonths(-1), ct);
        }
        await runner.RetryTransfersAsync(ct);
    }
}
