using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.Extensions.Options;

namespace AgentMarket.Catalog.SocialProof.Jobs;

/// <summary>
/// Recomputes social proof from the run records every <c>Marketplace:SocialProofRepairInterval</c> (default hourly).
/// Safe with several replicas: the repair is idempotent, and a replica that loses a race retries on its next tick.
/// </summary>
sealed class RepairSocialProofJob(IServiceScopeFactory scopes, IOptionsMonitor<MarketplaceOptions> options, ILogger<RepairSocialProofJob> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.CurrentValue.SocialProofRepairInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
                await scope.ServiceProvider.GetRequiredService<RunFacts>().RepairAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Repairing social proof failed; retrying on the next tick");
            }
        }
    }
}
