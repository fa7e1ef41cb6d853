using System.Text.Json;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// The parts of Stripe's event objects we read (API version <see cref="StripeClient.ApiVersion"/>). Webhook payloads
/// never expand related objects, so references such as <c>payment_intent</c> are ids.
/// </summary>
sealed record StripeEvent(string Id, string Type, StripeEventData Data)
{
    public T Object<T>() => Data.Object.Deserialize<T>(StripeJson.Options) ?? throw new JsonException($"Event {Id} has no data.object.");
}

sealed record StripeEventData(JsonElement Object);

sealed record StripeCheckoutSession(
    string Id,
    string? Mode = null,
    string? ClientReferenceId = null,
    Dictionary<string, string>? Metadata = null,
    string? PaymentStatus = null,
    string? PaymentIntent = null,
    string? Subscription = null,
    string? Invoice = null,
    string? Customer = null)
{
    /// <summary>Our payment's id: <c>client_reference_id</c>, or <c>metadata[payment_id]</c> (both are set at creation).</summary>
    public Guid? PaymentId =>
        Guid.TryParse(ClientReferenceId, out var id) ? id
        : Metadata?.GetValueOrDefault("payment_id") is { } fromMetadata && Guid.TryParse(fromMetadata, out id) ? id
        : null;
}

sealed record StripeInvoice(
    string Id,
    long AmountPaid,
    string? BillingReason = null,
    string? Subscription = null,
    StripeInvoiceParent? Parent = null,
    StripeList<StripeInvoiceLine>? Lines = null)
{
    const long MaxUnixSeconds = 253_402_300_799; // 9999-12-31T23:59:59Z, the last second DateTimeOffset can hold

    /// <summary><c>subscription</c>; from API version 2025-03-31 on it moved to <c>parent.subscription_details</c>.</summary>
    public string? SubscriptionId => Subscription ?? Parent?.SubscriptionDetails?.Subscription;

    /// <summary>The subscription line's service period start: the billing period this invoice pays for.</summary>
    public DateTime? PeriodStartUtc =>
        (Lines?.Data?.FirstOrDefault(l => l.Type == "subscription") ?? Lines?.Data?.FirstOrDefault())?.Period is { Start: > 0 and <= MaxUnixSeconds } period
            ? DateTimeOffset.FromUnixTimeSeconds(period.Start).UtcDateTime
            : null;
}

sealed record StripeInvoiceParent(StripeSubscriptionDetails? SubscriptionDetails = null);

sealed record StripeSubscriptionDetails(string? Subscription = null);

sealed record StripeInvoiceLine(string? Type = null, StripePeriod? Period = null);

sealed record StripePeriod(long Start, long End);

sealed record StripeCharge(string Id, long AmountRefunded, string? PaymentIntent = null, string? Invoice = null, StripeList<StripeRefund>? Refunds = null);

sealed record StripeRefund(string Id);

/// <summary>A dispute (chargeback) in <c>charge.dispute.*</c> events: the disputed amount and the charge's PaymentIntent.</summary>
sealed record StripeDispute(string Id, long Amount, string? Charge = null, string? PaymentIntent = null);

sealed record StripeSubscription(string Id);

sealed record StripeList<T>(List<T>? Data = null);

/// <summary>A PaymentIntent in <c>payment_intent.succeeded</c> / <c>payment_intent.payment_failed</c>: our payment's id is in its metadata.</summary>
sealed record StripePaymentIntent(string Id, Dictionary<string, string>? Metadata = null, StripePaymentError? LastPaymentError = null)
{
    public Guid? PaymentId => Metadata?.GetValueOrDefault("payment_id") is { } id && Guid.TryParse(id, out var parsed) ? parsed : null;
}

sealed record StripePaymentError(string? Code = null, string? DeclineCode = null);
