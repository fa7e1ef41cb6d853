using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Subscriptions.Jobs;

/// <summary>
/// Charges subscribers on monthly terms each month (SPEC §3), at the price their terms set (SPEC §5: an increase reaches
/// them after its notice): the month's credits through the ledger, keyed by subscription and period, so two instances or
/// a retry charge once. A month the wallet cannot pay puts the subscription past due (its runs stop); every later tick
/// tries again, and the month charged then starts when it is paid (ADR-143).
/// </summary>
sealed class SubscriptionCharges(IServiceScopeFactory scopes, IOptions<Credits.CreditsOptions> options, TimeProvider clock, ILogger<SubscriptionCharges> logger) : PeriodicJob
{
    /// <summary>The fields of <c>subscription.past_due</c>.</summary>
    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> PastDueFields =
    [
        new("config", "The subscription's uuid."),
        new("listing", "The agent's listing uuid."),
        new("required", "Credits the month costs: what the wallet must hold for it to be charged."),
    ];

    protected override TimeSpan Interval => TimeSpan.FromSeconds(options.Value.JobIntervalSeconds);

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "subscription_charges";

    protected override Task TickAsync(CancellationToken ct) => RunOnceAsync(ct);

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Subscription charges failed; retrying next tick");

    public async Task RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        List<(Guid Id, Guid Organization)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            // Subscribers whose terms became monthly (their provider moved to subscription pricing and the notice ended)
            // have no month paid: it is due now, and their runs are refused until it is paid (RunGateway). The terms are
            // PriceSchedule.ForSubscriber's, walked over each listing's changes in force (a revert within the notice
            // keeps its earlier subscribers where they were).
            // Only subscribers of a listing priced monthly, or moving away from it, can be on monthly terms: the terms
            // are read for those, not for every per-run subscription.
            var candidates = await db.CustomerAgentConfigs.AsNoTracking()
                .Where(c => c.NextChargeUtc == null && c.State != SubscriptionState.Terminated
                    && (c.Listing!.PricingModel == PricingModel.Subscription
                        || db.ListingPriceChanges.Any(p => p.ListingId == c.ListingId && p.PreviousModel == PricingModel.Subscription && p.EffectiveForSubscribersUtc > now)))
                .Select(c => new { c.Id, c.ListingId, c.SubscribedUtc, c.Listing!.PricingModel, c.Listing.CreditsPerRun, c.Listing.CreditsMin, c.Listing.CreditsMax })
                .ToListAsync(ct);
            var monthly = new List<Guid>();
            foreach (var listing in candidates.GroupBy(c => c.ListingId))
            {
                var first = listing.First();
                var current = new PricingTerms(first.PricingModel, first.CreditsPerRun, first.CreditsMin, first.CreditsMax);
                var changes = await PriceSchedule.InForceAsync(db.ListingPriceChanges.AsNoTracking(), listing.Key, now, ct);
                monthly.AddRange(listing.Where(c => PriceSchedule.ForSubscriber(current, changes, c.SubscribedUtc, now).Model == PricingModel.Subscription).Select(c => c.Id));
            }
            await db.CustomerAgentConfigs.Where(c => monthly.Contains(c.Id) && c.NextChargeUtc == null)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.NextChargeUtc, now), ct);
            due = (await db.CustomerAgentConfigs.AsNoTracking()
                .Where(c => c.NextChargeUtc <= now && c.State != SubscriptionState.Terminated)
                .OrderBy(c => c.NextChargeUtc).Take(500)
                .Select(c => new { c.Id, c.OrganizationId }).ToListAsync(ct))
                .ConvertAll(c => (c.Id, c.OrganizationId));
        }
        foreach (var (id, organization) in due)
        {
            // One subscription failing (a bug, a conflicting ledger key) must not stop the charges of those after it.
            try
            {
                // Each subscription in its organization's own scope: the charge runs as that tenant, as a run would.
                await using var scope = scopes.CreateAsyncScope();
                scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(organization, Identity.MembershipRole.Owner);
                await ChargeAsync(scope.ServiceProvider, id, ct);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Charging subscription {Config} failed; retrying next tick", id);
            }
        }
    }

    async Task ChargeAsync(IServiceProvider services, Guid configId, CancellationToken ct)
    {
        var db = services.GetRequiredService<AppDbContext>();
        var config = await db.CustomerAgentConfigs.Include(c => c.Listing).FirstOrDefaultAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct);
        if (config?.Listing is not { } listing || config.NextChargeUtc is not { } period)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        if (listing.State != ListingState.Active)
        {
            // Paused by its provider, suspended or taken down: its runs are refused, so the month is not charged.
            await UpdateIfUnchangedAsync(db, config, period, config.State, period.AddMonths(1), now, ct);
            return;
        }
        // The months a subscription spent past due had their runs refused: the month paid at last starts when it is paid.
        var start = config.State == SubscriptionState.PastDue ? now : period;
        var changes = await PriceSchedule.InForceAsync(db.ListingPriceChanges.AsNoTracking(), listing.Id, start, ct);
        var terms = PriceSchedule.ForSubscriber(PricingTerms.Of(listing), changes, config.SubscribedUtc, start);
        if (terms.Model != PricingModel.Subscription)
        {
            // The provider moved away from subscription pricing and the notice has ended for this subscriber: runs are
            // priced per run now, and nothing is owed for a month.
            await UpdateIfUnchangedAsync(db, config, period, SubscriptionState.Active, null, now, ct);
            return;
        }
        // The ledger key stays the period that fell due, whenever it is paid: a retry of the same month replays it.
        var failure = await services.GetRequiredService<SubscriptionService>().ChargeMonthAsync(config, listing, terms.CreditsPerRun, period, () =>
        {
            config.NextChargeUtc = start.AddMonths(1);
            config.State = SubscriptionState.Active;
            config.UpdatedUtc = now;
        }, ct);
        if (failure is null)
        {
            return;
        }
        if (failure.Status != StatusCodes.Status402PaymentRequired)
        {
            logger.LogWarning("Subscription {Config}'s month was not charged ({Code}); retrying next tick", config.Id, failure.Code);
            return;
        }
        if (config.State == SubscriptionState.Active
            && await UpdateIfUnchangedAsync(db, config, period, SubscriptionState.PastDue, period, now, ct) == 1)
        {
            db.OutboxEvents.Add(OutboxEvent.Create(config.OrganizationId, "subscription.past_due", new { config = config.Id, listing = listing.Id, required = terms.CreditsPerRun }, now));
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>
    /// Stores what the job decided only if the subscription is still as the job read it: one ended (or charged by another
    /// instance) in between keeps what that request stored, instead of being revived as active or moved on.
    /// </summary>
    static Task<int> UpdateIfUnchangedAsync(AppDbContext db, CustomerAgentConfig read, DateTime period, SubscriptionState state, DateTime? next, DateTime now, CancellationToken ct) =>
        db.CustomerAgentConfigs
            .Where(c => c.Id == read.Id && c.State == read.State && c.NextChargeUtc == period)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.State, state)
                .SetProperty(c => c.NextChargeUtc, next)
                .SetProperty(c => c.UpdatedUtc, now), ct);
}
