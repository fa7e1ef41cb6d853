namespace AgentMarket.Webhooks;

/// <summary>Whose organization receives an event: the buyer's that caused it, or the provider's whose listing it is about.</summary>
public enum WebhookAudience
{
    Buyer,
    Provider,
}

/// <summary>
/// One field of an event's <c>data</c>: its JSON name (a field of an object as <c>object.field</c>) and what it holds.
/// Each producer lists its event's fields next to where it builds the payload, and a test holds every delivered payload
/// to its list.
/// </summary>
public sealed record WebhookPayloadField(string Name, string Meaning);

public sealed record WebhookEventType(string Name, WebhookAudience Audience, string Description, IReadOnlyList<WebhookPayloadField> Fields);

/// <summary>
/// The events endpoints may subscribe to. Each is written to the outbox (<see cref="Platform.Events.OutboxEvent"/>) in
/// the same transaction as the change it reports, addressed to the organization that should hear about it: buyer
/// events to the buyer's organization, provider events to the organization that owns the listing. Runs go to the buyer
/// only; providers see runs in aggregate (analytics), never one customer's run by run.
/// </summary>
public static class WebhookEventTypes
{
    /// <summary>Sent by <c>POST /api/webhook-endpoints/{uuid}/test</c> to that endpoint only; not subscribable.</summary>
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<WebhookEventType> All =
    [
        new("order.created", WebhookAudience.Buyer, "An agent was added to My Agents (an order was placed).", Subscriptions.SubscriptionService.OrderCreatedFields),
        new("subscription.activated", WebhookAudience.Buyer, "A subscription started.", Subscriptions.SubscriptionService.SubscriptionActivatedFields),
        new("subscription.past_due", WebhookAudience.Buyer, "A subscription's monthly charge could not be paid; its runs stop until it is.", Subscriptions.Jobs.SubscriptionCharges.PastDueFields),
        new("subscription.terminated", WebhookAudience.Buyer, "A subscription ended; its keys stopped working.", Subscriptions.SubscriptionService.SubscriptionTerminatedFields),
        new(Subscriptions.SubscriberNotices.AgentUnavailable, WebhookAudience.Buyer, "A subscribed agent stopped running (paused or withdrawn by its provider, taken down or suspended by the marketplace); its runs are refused until it is back.", Subscriptions.SubscriberNotices.AvailabilityFields),
        new(Subscriptions.SubscriberNotices.AgentAvailable, WebhookAudience.Buyer, "A subscribed agent that had stopped runs again.", Subscriptions.SubscriberNotices.AvailabilityFields),
        new(Subscriptions.SubscriberNotices.PriceIncreaseScheduled, WebhookAudience.Buyer, "The provider of a subscribed agent raised its price; it applies to the subscription after the notice period.", Subscriptions.SubscriberNotices.PriceIncreaseFields),
        new(Subscriptions.SubscriberNotices.UsageReportingScheduled, WebhookAudience.Buyer, "The provider of a subscribed agent now runs it on its own servers and reports its usage; its reports are charged to the subscription after the notice period.", Subscriptions.SubscriberNotices.UsageReportingFields),
        new("run.completed", WebhookAudience.Buyer, "A run finished with an answer.", WebhookEvents.RunFields),
        new("run.failed", WebhookAudience.Buyer, "A run failed or was refused; it cost nothing.", WebhookEvents.RunFields),
        new("credits.low_balance", WebhookAudience.Buyer, "The available balance fell below the organization's alert threshold.", Credits.SpendControls.LowBalanceFields),
        new("credits.purchased", WebhookAudience.Buyer, "A payment for credits or a plan succeeded.", Payments.Fulfilment.PurchasedFields),
        new("credits.auto_top_up_failed", WebhookAudience.Buyer, "An automatic top-up's payment was refused (declined, or the bank asked for authentication); auto top-up was switched off.", Payments.AutoTopUps.FailedEventFields),
        new("credits.auto_top_up_paused", WebhookAudience.Buyer, "The daily limit of automatic purchases stopped an automatic top-up; auto top-up resumes when the oldest of them is 24 hours old. At most once a day.", Payments.AutoTopUps.PausedEventFields),
        new("payout.paid", WebhookAudience.Provider, "A payout was paid to the provider (marked paid by an operator, or transferred through Stripe Connect).", Payouts.PayoutEvents.PaidFields),
        new("listing.published", WebhookAudience.Provider, "A listing went live for the first time.", WebhookEvents.ListingPublishedFields),
        new("review.created", WebhookAudience.Provider, "A buyer reviewed one of the provider's listings.", WebhookEvents.ReviewCreatedFields),
    ];

    static readonly HashSet<string> Names = All.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);

    public static bool IsKnown(string name) => Names.Contains(name);
}
