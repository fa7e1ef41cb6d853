using AgentMarket.Catalog;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Subscriptions.Jobs;

/// <summary>
/// Charges subscription-priced agents each month (SPEC §3): the month's credits through the ledger, keyed by subscription
/// and period, so two instances or a retry charge once. A month the wallet cannot pay puts the subscription past due (its
/// runs stop); every later tick tries again, and a successful charge makes it active.
/// </summary>
sealed class SubscriptionCharges(IServiceScopeFactory scopes, IOptions<Credits.CreditsOptions> options, TimeProvider clock, ILogger<SubscriptionCharges> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.JobIntervalSeconds), clock);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                Admin.Metrics.PlatformMeters.JobRan("subscription_charges", succeeded: true);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                Admin.Metrics.PlatformMeters.JobRan("subscription_charges", succeeded: false);
                logger.LogError(exception, "Subscription charges failed; retrying next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        List<(Guid Id, Guid Organization)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            due = (await scope.ServiceProvider.GetRequiredService<AppDbContext>().CustomerAgentConfigs.AsNoTracking()
                .Where(c => c.NextChargeUtc <= now && c.State != SubscriptionState.Terminated)
                .OrderBy(c => c.NextChargeUtc).Take(500)
                .Select(c => new { c.Id, c.OrganizationId }).ToListAsync(ct))
                .ConvertAll(c => (c.Id, c.OrganizationId));
        }
        foreach (var (id, organization) in due)
        {
            // Each subscription in its organization's own scope: the charge runs as that tenant, as a run would.
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(organization, Identity.MembershipRole.Owner);
            await ChargeAsync(scope.ServiceProvider, id, ct);
        }
    }

    async Task ChargeAsync(IServiceProvider services, Guid configId, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var config = await db.CustomerAgentConfigs.Include(c => c.Listing).FirstAsync(c => c.Id == configId, ct);
        if (config.Listing is not { PricingModel: PricingModel.Subscription } listing || config.NextChargeUtc is not { } period)
        {
            config.NextChargeUtc = null; // the provider moved away from subscription pricing: nothing more to charge
            await db.SaveChangesAsync(ct);
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        if (listing.State != Catalog.ListingState.Active)
        {
            // Paused by its provider, suspended or taken down: its runs are refused, so the month is not charged.
            config.NextChargeUtc = period.AddMonths(1);
            config.UpdatedUtc = now;
            await db.SaveChangesAsync(ct);
            return;
        }
        var failure = await services.GetRequiredService<SubscriptionService>().ChargeMonthAsync(config, listing, listing.CreditsPerRun, $"{period:yyyyMMddHHmmss}", ct);
        if (failure is null)
        {
            config.NextChargeUtc = period.AddMonths(1);
            config.State = SubscriptionState.Active;
        }
        else if (config.State == SubscriptionState.Active)
        {
            config.State = SubscriptionState.PastDue;
            db.OutboxEvents.Add(OutboxEvent.Create(config.OrganizationId, "subscription.past_due", new { config = config.Id, listing = listing.Id, required = listing.CreditsPerRun }, now));
        }
        config.UpdatedUtc = now;
        await db.SaveChangesAsync(ct);
    }
}
