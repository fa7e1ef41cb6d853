using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payouts;

/// <summary>
/// What a payout's milestones leave behind, added to the caller's context so they commit with the payout's own change:
/// an audit entry when the earnings move into a payout and when it is paid, and the provider's <c>payout.paid</c> webhook.
/// </summary>
sealed class PayoutEvents(AppDbContext db, AuditLog audit)
{
    /// <summary>The fields of <c>payout.paid</c>.</summary>
    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> PaidFields =
    [
        new("payout", "The payout's uuid."),
        new("period", "The month of earnings it pays (yyyy-MM)."),
        new("credits", "Earnings paid out, in credits."),
        new("amount_cents", "The amount paid, in US cents."),
        new("currency", "Always usd."),
        new("method", "manual (an operator paid it) or stripe_connect."),
        new("reference", "The operator's or Stripe's reference for the transfer."),
        new("paid", "When it was paid (UTC)."),
    ];

    public async Task CreatedAsync(Payout payout, CancellationToken ct) =>
        audit.Record(AuditActions.PayoutCreated, await ProviderOrganizationAsync(payout, ct), "payout", payout.Id,
            after: new { payout.Period, payout.Credits, amount_cents = payout.AmountCents, method = payout.Method.ToString() });

    public async Task PaidAsync(Payout payout, CancellationToken ct)
    {
        var organization = await ProviderOrganizationAsync(payout, ct);
        var paid = payout.PaidUtc ?? throw new InvalidOperationException("A paid payout records when it was paid.");
        audit.Record(AuditActions.PayoutPaid, organization, "payout", payout.Id,
            after: new { payout.Period, amount_cents = payout.AmountCents, payout.Reference });
        db.OutboxEvents.Add(OutboxEvent.Create(organization, "payout.paid", new
        {
            payout = payout.Id,
            period = payout.Period,
            credits = payout.Credits,
            amount_cents = payout.AmountCents,
            currency = "usd",
            method = payout.Method == PayoutMethod.StripeConnect ? "stripe_connect" : "manual",
            reference = payout.Reference,
            paid = paid,
        }, paid));
    }

    // Payouts are handled in the system scope (operators and the monthly job), so the provider is read across tenants.
    Task<Guid> ProviderOrganizationAsync(Payout payout, CancellationToken ct) =>
        db.Providers.AsNoTracking().Where(p => p.Id == payout.ProviderId).Select(p => p.OrganizationId).SingleAsync(ct);
}
