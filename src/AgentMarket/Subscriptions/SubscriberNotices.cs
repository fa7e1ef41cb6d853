using System.Globalization;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pages;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Mail;
using AgentMarket.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;

namespace AgentMarket.Subscriptions;

/// <summary>
/// Tells an agent's subscribers, in the same save as the change, when what they pay for changes under them: the agent
/// stops running (its provider paused or archived it, an operator took it down or suspended its provider), runs again,
/// its price is going up after the notice period, or its provider starts billing it from usage reports after that notice
/// (ADR-158). Each subscribing organization's owners get an email and the organization a webhook event
/// (<c>subscription.agent_unavailable</c>, <c>subscription.agent_available</c>, <c>subscription.price_increase_scheduled</c>,
/// <c>subscription.usage_reporting_scheduled</c>). An interceptor, because listings change state in several places
/// (the seller's actions, moderation, suspension, archiving) and none of them should be able to forget this.
/// </summary>
sealed class SubscriberNotices(IServiceScopeFactory scopes, IOptionsMonitor<Providers.MarketplaceOptions> marketplace, TimeProvider clock) : SaveChangesInterceptor
{
    public const string AgentUnavailable = "subscription.agent_unavailable";
    public const string AgentAvailable = "subscription.agent_available";
    public const string PriceIncreaseScheduled = "subscription.price_increase_scheduled";
    public const string UsageReportingScheduled = "subscription.usage_reporting_scheduled";

    /// <summary>The agent each notice is about (<see cref="Reference"/>).</summary>
    static readonly WebhookPayloadField[] ListingFields =
    [
        new("listing.uuid", "The agent's listing uuid."),
        new("listing.slug", "Its address in the marketplace (/agents/{slug})."),
        new("listing.name", "Its name."),
    ];

    /// <summary>The fields of <see cref="AgentUnavailable"/> and <see cref="AgentAvailable"/>.</summary>
    public static readonly IReadOnlyList<WebhookPayloadField> AvailabilityFields =
    [
        new("listing", "The agent (uuid, slug, name)."),
        .. ListingFields,
        new("state", "The listing's state now: active when it runs again; paused, archived, taken_down or suspended when it stopped."),
    ];

    public static readonly IReadOnlyList<WebhookPayloadField> PriceIncreaseFields =
    [
        new("listing", "The agent (uuid, slug, name)."),
        .. ListingFields,
        .. PricingFields("previous_pricing", "the price the subscription pays now"),
        .. PricingFields("new_pricing", "the raised price"),
        new("effective_for_subscribers", "When the raised price applies to the subscription (UTC), after the notice period."),
    ];

    public static readonly IReadOnlyList<WebhookPayloadField> UsageReportingFields =
    [
        new("listing", "The agent (uuid, slug, name)."),
        .. ListingFields,
        new("reports_usage_since", "When the provider started running the agent on its own servers and reporting its usage (UTC)."),
        new("charged_from", "When reports of the subscription's runs start being charged (UTC), after the notice period."),
    ];

    static WebhookPayloadField[] PricingFields(string name, string what) =>
    [
        new(name, $"{char.ToUpperInvariant(what[0])}{what[1..]}."),
        new($"{name}.model", "The pricing model: free, fixed_credits, variable_credits or subscription."),
        new($"{name}.credits_per_run", "Credits a run costs (fixed price), or a month (subscription)."),
        new($"{name}.credits_min", "The least a run costs (variable price)."),
        new($"{name}.credits_max", "The most a run costs (variable price)."),
    ];

    /// <summary>A notice to the listing's subscribers; for a price increase, <see cref="Change"/>, to those it raises.</summary>
    sealed record Notice(Listing Listing, string Type, string Subject, string Body, object Data, ListingPriceChange? Change = null);

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        if (eventData.Context is AppDbContext db && Notices(db, marketplace.CurrentValue.PriceIncreaseNotice) is { Count: > 0 } notices)
        {
            await SendAsync(db, notices, ct);
        }
        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result) =>
        eventData.Context is AppDbContext db && Notices(db, marketplace.CurrentValue.PriceIncreaseNotice).Count > 0
            ? throw new InvalidOperationException("Save changes to listings and prices with SaveChangesAsync, so their subscribers are told.")
            : result;

    static List<Notice> Notices(AppDbContext db, TimeSpan notice)
    {
        var notices = new List<Notice>();
        foreach (var entry in db.ChangeTracker.Entries<Listing>().Where(e => e.State == EntityState.Modified))
        {
            var listing = entry.Entity;
            var before = (ListingState)entry.Property(l => l.State).OriginalValue;
            if (before == ListingState.Active && listing.State != ListingState.Active)
            {
                var why = listing.State switch
                {
                    ListingState.Paused => "its provider paused it",
                    ListingState.Archived => "its provider withdrew it from the marketplace",
                    ListingState.TakenDown => "the marketplace took it down",
                    ListingState.Suspended => "the marketplace suspended its provider",
                    _ => "it is no longer live",
                };
                notices.Add(new Notice(listing, AgentUnavailable, $"{listing.Name} has stopped running",
                    $"{listing.Name}, an agent your organization subscribes to, has stopped running: {why}. Its runs are refused " +
                    "until it is back, and they cost nothing meanwhile; a monthly subscription is not charged while it is not running.",
                    new { listing = Reference(listing), state = EnumNames<ListingState>.ToName(listing.State) }));
            }
            else if (before is ListingState.Paused or ListingState.Suspended or ListingState.TakenDown && listing.State == ListingState.Active)
            {
                notices.Add(new Notice(listing, AgentAvailable, $"{listing.Name} is running again",
                    $"{listing.Name}, an agent your organization subscribes to, is running again: your keys, chats and widgets work as before.",
                    new { listing = Reference(listing), state = EnumNames<ListingState>.ToName(listing.State) }));
            }
            // Before the first publication nobody subscribed. Every live subscriber subscribed before this save, so each
            // gets the notice before the provider's reports are charged to them.
            if (listing.PublishedUtc is not null && entry.Property(l => l.ReportsUsageSinceUtc).OriginalValue is null
                && listing.ReportsUsageSinceUtc is { } since)
            {
                var chargedFrom = since + notice;
                var from = chargedFrom.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
                notices.Add(new Notice(listing, UsageReportingScheduled, $"{listing.Name} will be charged from its provider's usage reports from {from}",
                    $"The provider of {listing.Name}, an agent your organization subscribes to, now runs it on its own servers and reports " +
                    $"each run's usage, which is charged to you at the agent's price. Reports of your runs are charged from {from} UTC; " +
                    "until then they are not. To stop using it, remove it from My Agents before then.",
                    new { listing = Reference(listing), reports_usage_since = since, charged_from = chargedFrom }));
            }
        }
        foreach (var change in db.ChangeTracker.Entries<ListingPriceChange>().Where(e => e.State == EntityState.Added).Select(e => e.Entity))
        {
            // A decrease applies at once; an increase waits for the notice period, which is what this notice is for.
            if (change.EffectiveForSubscribersUtc <= change.AnnouncedUtc
                || db.ChangeTracker.Entries<Listing>().FirstOrDefault(e => e.Entity.Id == change.ListingId)?.Entity is not { } listing)
            {
                continue;
            }
            var from = change.EffectiveForSubscribersUtc.ToString("d MMMM yyyy", CultureInfo.InvariantCulture);
            notices.Add(new Notice(listing, PriceIncreaseScheduled, $"{listing.Name} will cost more from {from}",
                $"The provider of {listing.Name}, an agent your organization subscribes to, raised its price from " +
                $"{Money.Price(CardPricing.From(change.Previous))} to {Money.Price(CardPricing.From(change.New))}. You keep the price you " +
                $"subscribed at until {from} UTC; from then on the new price applies. To stop using it, remove it from My Agents before then.",
                new
                {
                    listing = Reference(listing),
                    previous_pricing = CardPricing.From(change.Previous),
                    new_pricing = CardPricing.From(change.New),
                    effective_for_subscribers = change.EffectiveForSubscribersUtc,
                }, change));
        }
        return notices;
    }

    static object Reference(Listing listing) => new { uuid = listing.Id, slug = listing.Slug, name = listing.Name };

    async Task SendAsync(AppDbContext db, List<Notice> notices, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Subscriptions belong to their buyers' organizations, and the saving user is the provider or an operator: they
        // are read in a system scope of their own, as jobs read across tenants.
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<Platform.Tenancy.CurrentTenant>().EnterSystemScope();
        var everyone = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        foreach (var notice in notices)
        {
            var live = await everyone.CustomerAgentConfigs.AsNoTracking()
                .Where(c => c.ListingId == notice.Listing.Id && c.State != SubscriptionState.Terminated && c.OrganizationId != notice.Listing.OrganizationId)
                .Select(c => new { c.OrganizationId, c.SubscribedUtc }).ToListAsync(ct);
            if (notice.Change is { } change && live.Count > 0)
            {
                // Only those it raises: a subscriber still on terms a pending increase kept them at is not raised by the
                // seller going back to them (PriceSchedule.ForSubscriber, over the history as it was before this save).
                var history = await PriceSchedule.InForceAsync(everyone.ListingPriceChanges.AsNoTracking(), notice.Listing.Id, now, ct);
                live = live.Where(c => change.New.IsIncreaseOver(PriceSchedule.ForSubscriber(change.Previous, history, c.SubscribedUtc, now))).ToList();
            }
            var subscribers = live.Select(c => c.OrganizationId).Distinct().ToList();
            if (subscribers.Count == 0)
            {
                continue;
            }
            var owners = await everyone.Memberships.AsNoTracking()
                .Where(m => subscribers.Contains(m.OrganizationId) && m.Role == MembershipRole.Owner)
                .Select(m => m.User!.Email).ToListAsync(ct);
            foreach (var owner in owners)
            {
                db.OutboxEmails.Add(new OutboxEmail { Recipient = owner, Subject = notice.Subject, Body = notice.Body, CreatedUtc = now });
            }
            foreach (var organization in subscribers)
            {
                db.OutboxEvents.Add(OutboxEvent.Create(organization, notice.Type, notice.Data, now));
            }
        }
    }
}
