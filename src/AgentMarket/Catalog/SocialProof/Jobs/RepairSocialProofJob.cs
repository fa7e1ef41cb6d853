using AgentMarket.Platform;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.Extensions.Options;

namespace AgentMarket.Catalog.SocialProof.Jobs;

/// <summary>
/// Recomputes social proof from the run records every <c>Marketplace:SocialProofRepairInterval</c> (default hourly).
/// Safe with several replicas: the repair is idempotent, and a replica that loses a race retries on its next tick.
/// </summary>
sealed class RepairSocialProofJob(IServiceScopeFactory scopes, IOptionsMonitor<MarketplaceOptions> options, TimeProvider clock, ILogger<RepairSocialProofJob> logger) : PeriodicJob
{
    protected override TimeSpan Interval => options.CurrentValue.SocialProofRepairInterval;

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "social_proof_repair";

    protected override bool TicksAtStart => false;

    protected override async Task TickAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        await scope.ServiceProvider.GetRequiredService<RunFacts>().RepairAsync(ct);
    }

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Repairing social proof failed; retrying on the next tick");
}
