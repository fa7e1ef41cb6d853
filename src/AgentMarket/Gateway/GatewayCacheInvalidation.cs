using System.Runtime.CompilerServices;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Credits.Plans;
using AgentMarket.Providers.Agents;
using AgentMarket.Providers.Configuration;
using AgentMarket.Runtime;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Gateway;

/// <summary>
/// Makes a change saved on this node visible to the next run at once: whenever a context saves a subscription, an
/// organization's plan settings, or a listing, its releases or price changes, the matching <see cref="GatewayCache"/> entries
/// are dropped once the save succeeded, and so are an agent's cached settings when its buyer fields or knowledge base
/// change. Other replicas see the change when their entry expires (a second).
/// </summary>
sealed class GatewayCacheInvalidation(GatewayCache cache, AgentPlans plans) : SaveChangesInterceptor
{
    readonly ConditionalWeakTable<DbContext, Changed> _pending = new();

    sealed record Changed(List<Guid> GatewayEntries, List<Guid> Agents);

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken ct = default)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Forget(eventData.Context);
        return result;
    }

    void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }
        var changed = new Changed([], []);
        foreach (var entry in context.ChangeTracker.Entries())
        {
            if (entry.State is EntityState.Unchanged or EntityState.Detached)
            {
                continue;
            }
            if (entry.Entity is ProviderAgent or ConfigurableField)
            {
                changed.Agents.Add(entry.Entity is ProviderAgent agent ? agent.Id : ((ConfigurableField)entry.Entity).AgentId);
                continue;
            }
            Guid? id = entry.Entity switch
            {
                CustomerAgentConfig config => config.Id,
                Listing listing => listing.Id,
                OrganizationPlan plan => plan.OrganizationId,
                Identity.Organization organization => organization.Id, // suspension
                Webhooks.WebhookEndpoint endpoint => endpoint.OrganizationId,
                ListingRelease release => release.ListingId,
                ListingPriceChange change => change.ListingId,
                _ => null,
            };
            if (id is { } gatewayEntry)
            {
                changed.GatewayEntries.Add(gatewayEntry);
            }
        }
        if (changed.GatewayEntries.Count > 0 || changed.Agents.Count > 0)
        {
            _pending.AddOrUpdate(context, changed);
        }
    }

    void Forget(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var changed))
        {
            _pending.Remove(context);
            changed.GatewayEntries.ForEach(cache.Forget);
            changed.Agents.ForEach(plans.Forget);
        }
    }
}
