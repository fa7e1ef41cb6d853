using AgentMarket.Payments;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public sealed record AdminPaymentResponse(Guid Uuid, Guid OrganizationUuid, string OrganizationName, string Description, PaymentPurpose Purpose,
    PaymentProviderKind Provider, PaymentStatus Status, long AmountCents, long RefundedCents, long Credits, string Currency, DateTime Created, DateTime? Completed)
{
    /// <summary>What an operator can still refund here: the rest of a paid sandbox payment (Stripe's are refunded at Stripe).</summary>
    public long RefundableCents => Provider == PaymentProviderKind.Sandbox && Status is PaymentStatus.Succeeded or PaymentStatus.PartiallyRefunded
        ? AmountCents - RefundedCents
        : 0;
}

/// <summary>Operators see every organization's payments and refund them; shared by the API and the console's Payments page.</summary>
sealed class PaymentAdministration(AppDbContext db, CurrentTenant tenant, Fulfilment fulfilment)
{
    public sealed record Failure(int Status, string Code, string Message);

    static readonly Failure NotPaid = new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The payment was not found, or was never paid.");

    public Task<Page<AdminPaymentResponse>> ListAsync(PaymentStatus? status, Guid? organization, PageRequest page, CancellationToken ct)
    {
        var payments = db.Payments.IgnoreQueryFilters().AsNoTracking();
        if (status is { } only)
        {
            payments = payments.Where(p => p.Status == only);
        }
        if (organization is { } id)
        {
            payments = payments.Where(p => p.OrganizationId == id);
        }
        var rows = payments.OrderByDescending(p => p.CreatedUtc).ThenByDescending(p => p.Id)
            .Join(db.Organizations.IgnoreQueryFilters(), p => p.OrganizationId, o => o.Id, (p, o) => new AdminPaymentResponse(
                p.Id, p.OrganizationId, o.Name, p.Description, p.Purpose, p.Provider, p.Status, p.AmountCents, p.RefundedCents, p.Credits, p.Currency,
                p.CreatedUtc, p.CompletedUtc));
        return page.ToPageAsync(rows, ct);
    }

    /// <summary>
    /// Refunds <paramref name="amountCents"/> (the rest when null) of a sandbox payment. A Stripe payment is refunded in
    /// Stripe's dashboard, whose <c>charge.refunded</c> event books it: booking it here would take the credits back without
    /// returning the money.
    /// </summary>
    /// <param name="expectedRefundedCents">What the operator saw refunded: another total (a second click, another operator) is a conflict.</param>
    public async Task<(Payment? Payment, Failure? Failure)> RefundAsync(Guid paymentId, long? amountCents, long? expectedRefundedCents, CancellationToken ct)
    {
        tenant.EnterSystemScope(); // operators act on any organization's payment
        var provider = await db.Payments.AsNoTracking().Where(p => p.Id == paymentId).Select(p => (PaymentProviderKind?)p.Provider).FirstOrDefaultAsync(ct);
        if (provider == PaymentProviderKind.Stripe)
        {
            return (null, new Failure(StatusCodes.Status409Conflict, "refund_in_stripe",
                "This payment was made through Stripe: refund it in Stripe's dashboard, and its charge.refunded event applies the refund here."));
        }
        if (provider is null)
        {
            return (null, NotPaid);
        }
        var refund = await fulfilment.RefundAsync(paymentId, amountCents ?? long.MaxValue, $"operator:{Guid.CreateVersion7()}", ct, expectedRefundedCents);
        if (refund.Conflict)
        {
            // Another refund (a second click, another operator) was recorded since the operator saw what was left to refund.
            return (null, new Failure(StatusCodes.Status409Conflict, "refund_conflict",
                "Another refund of this payment was recorded since you looked: check what is left to refund and try again."));
        }
        return refund.Payment is null ? (null, NotPaid) : (refund.Payment, null);
    }
}
