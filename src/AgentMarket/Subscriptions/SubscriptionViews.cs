using System.Text.Json;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Providers.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Subscriptions;

/// <summary>A subscription as its buyer sees it: version state, declared fields with values, pricing with any notice.</summary>
sealed class SubscriptionViews(
    AppDbContext db, SubscriptionService subscriptions, AgentVersionPolicy versions, IOptionsMonitor<Providers.MarketplaceOptions> marketplace, TimeProvider clock)
{
    public async Task<ConfigResponse?> GetAsync(Guid configId, CancellationToken ct)
    {
        var config = await db.CustomerAgentConfigs.AsNoTracking().Include(c => c.Listing).FirstOrDefaultAsync(c => c.Id == configId, ct);
        return config is null ? null : await ViewAsync(config, ct);
    }

    public async Task<Page<ConfigResponse>> PageAsync(SubscriptionState state, PageRequest page, CancellationToken ct)
    {
        var query = db.CustomerAgentConfigs.AsNoTracking().Include(c => c.Listing).Where(c => c.State == state).OrderByDescending(c => c.SubscribedUtc);
        var total = await query.CountAsync(ct);
        var items = new List<ConfigResponse>();
        foreach (var config in await query.Skip(page.Offset).Take(page.Limit).ToListAsync(ct))
        {
            items.Add(await ViewAsync(config, ct));
        }
        return new Page<ConfigResponse>(items, total, page.Limit, page.Offset);
    }

    async Task<ConfigResponse> ViewAsync(CustomerAgentConfig config, CancellationToken ct)
    {
        var listing = config.Listing!;
        var fields = await subscriptions.FieldsAsync(config, ct);
        var values = SubscriptionSettings.Parse(config.SettingsJson);
        var version = await versions.StateAsync(config, ct);
        var pricing = await PricingAsync(config, listing, ct);
        return new ConfigResponse(
            config.Id, config.Name, new ListingRef(listing.Id, listing.Slug, listing.Name), config.State, config.ProjectId, version,
            fields.Where(f => f.Kind != ConfigurableFieldKind.KnowledgeBase)
                .Select(f => new FieldValue(f.Key, f.Label, f.HelpText, EnumName(f.Kind), f.Options, values.TryGetValue(f.Key, out var v) ? v : null, f.DefaultValue, f.Minimum, f.Maximum))
                .ToList(),
            new BrandingResponse(config.BrandColor, config.LogoUrl, config.WelcomeMessage),
            new WidgetResponse(config.WidgetPosition, config.WidgetTheme),
            new ModelResponse(config.ModelBaseUrl, config.ModelName, config.ModelApiKeyProtected is not null, await subscriptions.OwnModelEndpointAllowedAsync(config, ct)),
            pricing, config.KnowledgeBaseId, config.SubscribedUtc, config.TerminatedUtc,
            listing.ReportsUsageSinceUtc is not null, listing.ReportsUsageSinceUtc)
        {
            KnowledgeBaseUsed = fields.Any(f => f.Kind == ConfigurableFieldKind.KnowledgeBase),
            Unavailable = config.State == SubscriptionState.Terminated ? null : Catalog.ListingAvailability.Unavailable(listing.State),
            RenewsAt = config.State == SubscriptionState.Terminated ? null : config.NextChargeUtc,
            ReportsUsageChargedFrom = listing.ReportedUsageChargedFromUtc(config.SubscribedUtc, marketplace.CurrentValue.PriceIncreaseNotice),
        };
    }

    /// <summary>
    /// What this subscriber pays now, and the next announced increase still in its notice period: the terms it moves them
    /// to and when (a later increase, announced after, follows with its own full notice).
    /// </summary>
    async Task<PricingResponse> PricingAsync(CustomerAgentConfig config, Listing listing, CancellationToken ct)
    {
        var current = PricingTerms.Of(listing);
        var now = clock.GetUtcNow().UtcDateTime;
        var changes = await PriceSchedule.InForceAsync(db.ListingPriceChanges.AsNoTracking(), listing.Id, now, ct);
        var paying = PriceSchedule.ForSubscriber(current, changes, config.SubscribedUtc, now);
        var next = paying == current ? null
            : changes.Where(c => c.AnnouncedUtc > config.SubscribedUtc && c.EffectiveForSubscribersUtc > now).OrderBy(c => c.EffectiveForSubscribersUtc).ThenBy(c => c.AnnouncedUtc).FirstOrDefault();
        return new PricingResponse(paying.Model, paying.CreditsPerRun, paying.CreditsMin, paying.CreditsMax, next?.New, next?.EffectiveForSubscribersUtc);
    }

    static string EnumName(ConfigurableFieldKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
}
