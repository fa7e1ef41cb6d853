using System.Collections.Concurrent;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Gateway;

/// <summary>
/// What every run reads and rarely changes, kept for at most a second: the subscription with its listing, the
/// organization's plan limits and spend settings, and a listing's pending price changes and releases. A change made on
/// this node is seen at once (<see cref="Forget"/>); one made on another replica within the second. Entries are loaded in
/// a system scope, so the gateway checks the subscription's organization itself before using one. Expired entries are
/// swept at most once a lifetime: ids nobody runs again (and unknown ids, cached as null) do not stay for the life of
/// the process.
/// </summary>
public sealed class GatewayCache(IServiceScopeFactory scopes, TimeProvider clock)
{
    static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);

    public sealed record Subscription(CustomerAgentConfig Config, Listing Listing);
    public sealed record Organization(string PlanCode, long? SessionCreditCap, int ConcurrentSessions, bool HasSpendControls, bool Suspended);
    public sealed record ListingFacts(IReadOnlyList<ListingPriceChange> PendingPriceChanges, IReadOnlyList<ListingRelease> Releases)
    {
        /// <summary>A subscriber's price: an announced increase reaches them only after its notice period.</summary>
        public PricingTerms SubscriberTerms(Listing listing, DateTime subscribedUtc, DateTime now) =>
            PendingPriceChanges.Count == 0 ? PricingTerms.Of(listing) : PriceSchedule.ForSubscriber(PricingTerms.Of(listing), PendingPriceChanges, subscribedUtc, now);
    }

    readonly ConcurrentDictionary<Guid, (DateTime Loaded, Subscription? Value)> _subscriptions = new();
    readonly ConcurrentDictionary<Guid, (DateTime Loaded, Organization Value)> _organizations = new();
    readonly ConcurrentDictionary<Guid, (DateTime Loaded, ListingFacts Value)> _listings = new();
    readonly ConcurrentDictionary<Guid, (DateTime Loaded, IReadOnlySet<string> Value)> _webhookEvents = new();
    long _nextSweepTicks;

    /// <summary>Entries held, expired or not (tests check that the sweep bounds it).</summary>
    internal int Count => _subscriptions.Count + _organizations.Count + _listings.Count + _webhookEvents.Count;

    public Task<Subscription?> SubscriptionAsync(Guid configId, CancellationToken ct) =>
        GetAsync(_subscriptions, configId, async db =>
        {
            var config = await db.CustomerAgentConfigs.AsNoTracking().Include(c => c.Listing).FirstOrDefaultAsync(c => c.Id == configId, ct);
            return config?.Listing is { } listing ? new Subscription(config, listing) : null;
        });

    public Task<Organization> OrganizationAsync(Guid organization, CancellationToken ct) =>
        GetAsync(_organizations, organization, async db =>
        {
            var settings = await db.OrganizationPlans.AsNoTracking().Where(p => p.OrganizationId == organization)
                .Select(p => new { p.PlanCode, p.SessionCreditCap, p.LowBalanceThreshold, p.AutoTopUpPackageId }).FirstAsync(ct);
            var sessions = await db.Plans.AsNoTracking().Where(p => p.Code == settings.PlanCode).Select(p => p.ConcurrentSessions).FirstAsync(ct);
            var suspended = await db.Organizations.AsNoTracking().IsSuspendedAsync(organization, ct);
            return new Organization(settings.PlanCode, settings.SessionCreditCap, sessions, settings.LowBalanceThreshold is not null || settings.AutoTopUpPackageId is not null, suspended);
        });

    public Task<ListingFacts> ListingAsync(Guid listing, CancellationToken ct) =>
        GetAsync(_listings, listing, async db =>
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var pending = await PriceSchedule.InForceAsync(db.ListingPriceChanges.AsNoTracking(), listing, now, ct);
            var releases = await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == listing).ToListAsync(ct);
            return new ListingFacts(pending, releases);
        });

    /// <summary>The event types the organization's enabled webhook endpoints subscribe to (the run journal asks for every batch).</summary>
    public Task<IReadOnlySet<string>> WebhookEventsAsync(Guid organization, CancellationToken ct) =>
        GetAsync(_webhookEvents, organization, async db =>
        {
            var subscribed = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Enabled && e.OrganizationId == organization).Select(e => e.EventTypes).ToListAsync(ct);
            return (IReadOnlySet<string>)subscribed.SelectMany(types => types).ToHashSet(StringComparer.Ordinal);
        });

    /// <summary>Drops cached entries of a subscription, organization or listing changed on this node (the id of any).</summary>
    public void Forget(Guid id)
    {
        _subscriptions.TryRemove(id, out _);
        foreach (var (configId, entry) in _subscriptions)
        {
            if (entry.Value?.Listing.Id == id)
            {
                _subscriptions.TryRemove(configId, out _);
            }
        }
        _organizations.TryRemove(id, out _);
        _listings.TryRemove(id, out _);
        _webhookEvents.TryRemove(id, out _);
    }

    async Task<T> GetAsync<T>(ConcurrentDictionary<Guid, (DateTime Loaded, T Value)> cache, Guid id, Func<AppDbContext, Task<T>> load)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (cache.TryGetValue(id, out var entry) && now - entry.Loaded < Lifetime)
        {
            return entry.Value;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var value = await load(scope.ServiceProvider.GetRequiredService<AppDbContext>());
        cache[id] = (now, value);
        SweepIfDue(now);
        return value;
    }

    void SweepIfDue(DateTime now)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.Ticks < due || Interlocked.CompareExchange(ref _nextSweepTicks, (now + Lifetime).Ticks, due) != due)
        {
            return;
        }
        Sweep(_subscriptions, now);
        Sweep(_organizations, now);
        Sweep(_listings, now);
        Sweep(_webhookEvents, now);
    }

    static void Sweep<T>(ConcurrentDictionary<Guid, (DateTime Loaded, T Value)> cache, DateTime now)
    {
        foreach (var entry in cache)
        {
            if (now - entry.Value.Loaded >= Lifetime)
            {
                // Removes only the entry seen expired: one reloaded meanwhile stays.
                cache.TryRemove(entry);
            }
        }
    }
}
