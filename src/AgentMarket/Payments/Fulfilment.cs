using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments;

/// <summary>
/// The one place a successful payment takes effect, whoever reports it (sandbox checkout, Stripe webhook, renewal job):
/// credits or the plan change through the ledger with keys derived from the payment, then the payment's status and its
/// receipt. Each step is idempotent, so a retry after a crash at any point completes the work exactly once.
/// Callers run in a system scope (a webhook has no tenant) or in the payment's own organization.
/// </summary>
sealed class Fulfilment(AppDbContext db, CreditLedger ledger, CreditGrants grants, GrantsCache cache, IPaymentProvider provider, TimeProvider clock, ILogger<Fulfilment> logger, Audit.AuditLog audit)
{
    public async Task<Payment?> SucceedAsync(Guid paymentId, string? externalPaymentId, string? cardLast4, CancellationToken ct)
    {
        var payment = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        if (payment is null || payment.Status is not (PaymentStatus.Pending or PaymentStatus.Failed))
        {
            return payment;
        }
        // Fix the completion time once (first writer wins): the plan period and the grant keys derive from it, so
        // concurrent or repeated calls all compute the same keys.
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Payments.Where(p => p.Id == paymentId && p.CompletedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(p => p.CompletedUtc, now), ct);
        payment = await db.Payments.AsNoTracking().FirstAsync(p => p.Id == paymentId, ct);

        // The ledger effect first: keyed by the payment, so a replay changes nothing.
        Plan? plan = null;
        if (payment.Purpose is PaymentPurpose.Package or PaymentPurpose.AutoTopUp)
        {
            EnsureApplied(await ledger.PurchaseAsync($"payment:{payment.Id}", payment.OrganizationId, payment.Credits, payment.Description, "payment", payment.Id.ToString(), ct), payment);
        }
        else
        {
            plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == payment.PlanCode, ct);
            // The plan is part of the period's key: two plans bought within the same second start two periods, not one.
            var grant = await grants.GrantMonthlyAsync(payment.OrganizationId, plan, $"{PeriodStart(payment):yyyyMMddHHmmss}:{plan.Code}", ct);
            if (grant.Status is not (LedgerStatus.Ok or LedgerStatus.InvalidAmount))
            {
                throw new InvalidOperationException($"Monthly grant for payment {payment.Id} failed: {grant.Status}");
            }
        }

        // Then the state change, once: whoever moves the payment out of pending issues the receipt and the event and,
        // for plans, moves the billing period, all in one transaction.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var claimed = await db.Payments.Where(p => p.Id == paymentId && (p.Status == PaymentStatus.Pending || p.Status == PaymentStatus.Failed))
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Status, PaymentStatus.Succeeded)
                .SetProperty(p => p.FailureReason, (string?)null)
                .SetProperty(p => p.ExternalPaymentId, p => p.ExternalPaymentId ?? externalPaymentId)
                .SetProperty(p => p.CardLast4, p => p.CardLast4 ?? cardLast4), ct);
        if (claimed == 1)
        {
            if (plan is not null)
            {
                await ApplyPlanAsync(payment, plan, ct);
            }
            await IssueReceiptAsync(payment, ct);
            db.OutboxEvents.Add(OutboxEvent.Create(payment.OrganizationId, "credits.purchased",
                new { payment = payment.Id, purpose = payment.Purpose.ToString().ToLowerInvariant(), amount_cents = payment.AmountCents, credits = payment.Credits, plan = payment.PlanCode },
                payment.CompletedUtc!.Value));
            await db.SaveChangesAsync(ct);
        }
        await transaction.CommitAsync(ct);
        return await db.Payments.AsNoTracking().FirstAsync(p => p.Id == paymentId, ct);
    }

    /// <summary>When the plan period this payment pays for starts: renewals continue the previous period, purchases start on payment.</summary>
    static DateTime PeriodStart(Payment payment) => payment.PeriodStartUtc ?? payment.CompletedUtc!.Value;

    public async Task FailAsync(Guid paymentId, string reason, CancellationToken ct)
    {
        var payment = await db.Payments.FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        if (payment is { Status: PaymentStatus.Pending })
        {
            payment.Status = PaymentStatus.Failed;
            payment.FailureReason = reason;
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>
    /// Refunds <paramref name="amountCents"/> of a payment (cumulative refunds never exceed it). Package credits are clawed
    /// back in proportion; what was already spent becomes debt. A plan payment's monthly credits are taken back in
    /// proportion, as far as they are unspent, and a full refund of the plan's current period ends the plan at once
    /// (Free) and the provider's subscription with it, so it bills no more. <paramref name="refundKey"/> identifies the refund (Stripe's refund or event id), so a replay changes nothing.
    /// </summary>
    public async Task<Payment?> RefundAsync(Guid paymentId, long amountCents, string refundKey, CancellationToken ct)
    {
        var payment = await db.Payments.FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        if (payment is null || payment.Status is PaymentStatus.Pending or PaymentStatus.Failed)
        {
            return null;
        }
        var refundable = payment.AmountCents - payment.RefundedCents;
        var cents = Math.Min(amountCents, refundable);
        if (cents <= 0)
        {
            return payment;
        }
        var isPlan = payment.Purpose is PaymentPurpose.Plan or PaymentPurpose.Renewal;
        var endedPlan = isPlan && payment.RefundedCents + cents >= payment.AmountCents ? await CurrentPlanPaidByAsync(payment, ct) : null;
        if (endedPlan?.ExternalSubscriptionId is { } subscription)
        {
            // Ended before any of the refund is booked: should that fail, the refund's retry finds nothing applied and ends it again.
            await provider.EndSubscriptionAsync(subscription, ct);
        }
        var credits = ShareOf(payment.Credits, payment, cents);
        if (credits > 0)
        {
            var refund = await ledger.RefundAsync($"refund:{payment.Id}:{refundKey}", payment.OrganizationId, credits, $"Refund of {payment.Description}", "payment", payment.Id.ToString(), ct);
            if (refund.Replayed)
            {
                return payment;
            }
            EnsureApplied(refund, payment);
        }
        if (isPlan && !await RefundPlanAsync(payment, cents, endedPlan, refundKey, ct))
        {
            return payment; // replayed
        }
        audit.Record(Audit.AuditActions.PaymentRefunded, payment.OrganizationId, "payment", payment.Id,
            before: new { status = payment.Status, refunded_cents = payment.RefundedCents },
            after: new { refund_cents = cents, refund_credits = credits, refunded_cents = payment.RefundedCents + cents, refund = refundKey });
        payment.RefundedCents += cents;
        payment.Status = payment.RefundedCents >= payment.AmountCents ? PaymentStatus.Refunded : PaymentStatus.PartiallyRefunded;
        await db.Receipts.Where(r => r.PaymentId == payment.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, payment.Status), ct);
        await db.SaveChangesAsync(ct);
        return payment;
    }

    /// <summary>
    /// The share of <paramref name="credits"/> that refunding <paramref name="cents"/> more of the payment takes back,
    /// counted on the refunds' running total, so partial refunds that add up to the whole take back exactly the whole.
    /// </summary>
    static long ShareOf(long credits, Payment payment, long cents) =>
        payment.AmountCents == 0 ? 0
            : credits * (payment.RefundedCents + cents) / payment.AmountCents - credits * payment.RefundedCents / payment.AmountCents;

    /// <summary>The organization's plan when <paramref name="payment"/> paid for its current period, else null.</summary>
    async Task<OrganizationPlan?> CurrentPlanPaidByAsync(Payment payment, CancellationToken ct)
    {
        var plan = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        return plan.PlanCode == payment.PlanCode && plan.CurrentPeriodStartUtc == PeriodStart(payment) ? plan : null;
    }

    /// <summary>
    /// Takes back the refunded share of the monthly credits the plan payment granted and, when the whole payment of the
    /// organization's current period is refunded (<paramref name="ended"/>), puts it on Free at once, its provider
    /// subscription already ended. False when the refund was already applied.
    /// </summary>
    async Task<bool> RefundPlanAsync(Payment payment, long cents, OrganizationPlan? ended, string refundKey, CancellationToken ct)
    {
        var plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == payment.PlanCode, ct);
        var credits = ShareOf(plan.MonthlyCredits, payment, cents);
        if (credits > 0)
        {
            var revoked = await ledger.RevokeGrantAsync($"refund:{payment.Id}:{refundKey}:grant", payment.OrganizationId, credits,
                $"Refund of {payment.Description}: its monthly credits taken back", "payment", payment.Id.ToString(), ct);
            if (revoked.Replayed)
            {
                return false;
            }
            EnsureApplied(revoked, payment);
        }
        if (ended is { } organizationPlan)
        {
            audit.Record(Audit.AuditActions.PlanChanged, payment.OrganizationId, "organization_plan", payment.OrganizationId,
                before: new { plan = organizationPlan.PlanCode, interval = organizationPlan.Interval }, after: new { plan = Plan.Free, reason = "refunded", payment = payment.Id });
            organizationPlan.ExternalSubscriptionId = null;
            organizationPlan.PlanCode = Plan.Free;
            organizationPlan.Interval = BillingInterval.Monthly;
            organizationPlan.CurrentPeriodStartUtc = organizationPlan.CurrentPeriodEndUtc = organizationPlan.CreditPeriodStartUtc = null;
            organizationPlan.ScheduledPlanCode = null;
            organizationPlan.ScheduledInterval = null;
            organizationPlan.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
            cache.Forget(payment.OrganizationId);
        }
        return true;
    }

    async Task ApplyPlanAsync(Payment payment, Plan plan, CancellationToken ct)
    {
        var organizationPlan = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        var start = PeriodStart(payment);
        var interval = payment.Interval ?? BillingInterval.Monthly;
        audit.Record(Audit.AuditActions.PlanChanged, payment.OrganizationId, "organization_plan", payment.OrganizationId,
            before: new { plan = organizationPlan.PlanCode, interval = organizationPlan.Interval }, after: new { plan = plan.Code, interval, payment = payment.Id });
        organizationPlan.PlanCode = plan.Code;
        organizationPlan.Interval = interval;
        organizationPlan.CurrentPeriodStartUtc = start;
        organizationPlan.CurrentPeriodEndUtc = interval == BillingInterval.Yearly ? start.AddYears(1) : start.AddMonths(1);
        organizationPlan.CreditPeriodStartUtc = start;
        organizationPlan.ScheduledPlanCode = null;
        organizationPlan.ScheduledInterval = null;
        organizationPlan.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        cache.Forget(payment.OrganizationId);
    }

    async Task IssueReceiptAsync(Payment payment, CancellationToken ct)
    {
        var organization = await db.Organizations.AsNoTracking().Where(o => o.Id == payment.OrganizationId).Select(o => o.Name).FirstAsync(ct);
        var sequence = await db.NextAsync("receipt", ct);
        db.Receipts.Add(new Receipt
        {
            Sequence = sequence,
            OrganizationId = payment.OrganizationId,
            PaymentId = payment.Id,
            BillTo = organization,
            Lines = [new ReceiptLine(payment.Description, 1, payment.AmountCents, payment.AmountCents)],
            SubtotalCents = payment.AmountCents,
            TaxCents = 0,
            TotalCents = payment.AmountCents,
            Currency = payment.Currency,
            Status = PaymentStatus.Succeeded,
            TestMode = provider.TestMode,
            IssuedUtc = payment.CompletedUtc!.Value,
        });
    }

    void EnsureApplied(LedgerResult result, Payment payment)
    {
        if (!result.Succeeded)
        {
            logger.LogError("Ledger refused fulfilment of payment {PaymentId}: {Status}", payment.Id, result.Status);
            throw new InvalidOperationException($"Ledger refused payment {payment.Id}: {result.Status}");
        }
    }
}
