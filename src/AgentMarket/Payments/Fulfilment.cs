using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments;

/// <summary>
/// What <see cref="Fulfilment.RefundAsync"/> did: the payment as it now stands (null when it does not exist or was never
/// paid), or nothing at all (<paramref name="Conflict"/>) because another refund of the payment was recorded meanwhile.
/// </summary>
readonly record struct RefundResult(Payment? Payment, bool Conflict = false);

/// <summary>
/// The one place a successful payment takes effect, whoever reports it (sandbox checkout, Stripe webhook, renewal job):
/// credits or the plan change through the ledger with keys derived from the payment, then the payment's status and its
/// receipt. Each step is idempotent, so a retry after a crash at any point completes the work exactly once. A refund goes
/// the other way round: recorded with the payment first, its credits taken back after (ADR-135).
/// Callers run in a system scope (a webhook has no tenant) or in the payment's own organization.
/// </summary>
sealed class Fulfilment(AppDbContext db, CreditLedger ledger, CreditGrants grants, GrantsCache cache, IPaymentProvider provider, TimeProvider clock, ILogger<Fulfilment> logger, Audit.AuditLog audit)
{
    /// <summary>The fields of <c>credits.purchased</c>.</summary>
    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> PurchasedFields =
    [
        new("payment", "The payment's uuid."),
        new("purpose", "What was bought: package, plan, renewal (a plan's next period) or autotopup (an automatic top-up)."),
        new("amount_cents", "What was paid, in US cents."),
        new("credits", "Credits added to the balance."),
        new("plan", "The plan's code for a plan or renewal; null for credit packages."),
    ];

    /// <summary>How long a recorded refund may wait for its own request to apply it before the sweep does.</summary>
    static readonly TimeSpan InterruptedRefundAge = TimeSpan.FromMinutes(1);

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
        // A first look without the lock: a checkout already late (a tab left open) is declined without granting anything.
        var conflict = payment.Purpose == PaymentPurpose.Plan ? await PlanConflictAsync(payment, ct) : null;

        // The ledger effect first: keyed by the payment, so a replay changes nothing.
        Plan? plan = null;
        if (payment.Purpose is PaymentPurpose.Package or PaymentPurpose.AutoTopUp)
        {
            EnsureApplied(await ledger.PurchaseAsync($"payment:{payment.Id}", payment.OrganizationId, payment.Credits, payment.Description, "payment", payment.Id.ToString(), ct), payment);
        }
        else if (conflict is null)
        {
            plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == payment.PlanCode, ct);
            var grant = await grants.GrantMonthlyAsync(payment.OrganizationId, plan, CreditGrants.FirstMonth(PeriodStart(payment), plan.Code), ct);
            if (grant.Status is not (LedgerStatus.Ok or LedgerStatus.InvalidAmount))
            {
                throw new InvalidOperationException($"Monthly grant for payment {payment.Id} failed: {grant.Status}");
            }
        }

        // Then the state change, once: whoever moves the payment out of pending issues the receipt and the event and,
        // for plans, moves the billing period, all in one transaction.
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            if (payment.Purpose is PaymentPurpose.Plan or PaymentPurpose.Renewal)
            {
                // Plan payments of one organization take turns from here to the commit, and a plan payment is checked
                // again in its turn: two checkouts completing at once (two tabs) both passed the first look, and applied
                // in turn the second would undo the first (ADR-148).
                await LockPlanAsync(payment.OrganizationId, ct);
                conflict ??= payment.Purpose == PaymentPurpose.Plan ? await PlanConflictAsync(payment, ct) : null;
            }
            if (conflict is not null)
            {
                await DeclineAsync(payment, conflict, externalPaymentId, cardLast4, ct);
            }
            else if (await ClaimAsync(paymentId, externalPaymentId, cardLast4, ct))
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
        }
        var completed = await db.Payments.AsNoTracking().FirstAsync(p => p.Id == paymentId, ct);
        if (conflict is not null && await db.PaymentRefunds.AsNoTracking().FirstOrDefaultAsync(r => r.PaymentId == paymentId && r.RefundKey == DeclinedRefundKey, ct) is { } declined)
        {
            // Whoever recorded the decline (this call or a concurrent one), its money and any grant go back now; keyed.
            await ApplyAsync(declined, completed, ct);
        }
        return completed;
    }

    /// <summary>Moves the payment from pending (or failed) to succeeded; false when another completion did it first.</summary>
    async Task<bool> ClaimAsync(Guid paymentId, string? externalPaymentId, string? cardLast4, CancellationToken ct) =>
        await db.Payments.Where(p => p.Id == paymentId && (p.Status == PaymentStatus.Pending || p.Status == PaymentStatus.Failed))
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Status, PaymentStatus.Succeeded)
                .SetProperty(p => p.FailureReason, (string?)null)
                .SetProperty(p => p.ExternalPaymentId, p => p.ExternalPaymentId ?? externalPaymentId)
                .SetProperty(p => p.CardLast4, p => p.CardLast4 ?? cardLast4), ct) == 1;

    /// <summary>
    /// Holds the organization's plan row until the current transaction ends, so plan payments of one organization apply
    /// one at a time (FOR UPDATE on PostgreSQL; SQLite's transactions begin IMMEDIATE, holding its one write lock).
    /// </summary>
    async Task LockPlanAsync(Guid organizationId, CancellationToken ct)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM organization_plans WHERE organization_id = {organizationId} FOR UPDATE", ct);
        }
    }

    /// <summary>The refund key of a payment declined at success (<see cref="DeclineAsync"/>): its money goes back in full.</summary>
    public const string DeclinedRefundKey = "declined";

    /// <summary>
    /// Why a plan checkout paid now must not be applied: since it started (an old tab, a checkout left open), the
    /// organization moved to the same plan or a better one, which applying it would undo. Null when it still upgrades.
    /// </summary>
    async Task<string?> PlanConflictAsync(Payment payment, CancellationToken ct)
    {
        var current = await db.OrganizationPlans.AsNoTracking().FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        var currentPlan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == current.PlanCode, ct);
        var target = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == payment.PlanCode, ct);
        return Checkouts.PlanConflict(current, currentPlan, target, payment.Interval ?? BillingInterval.Monthly) is null ? null
            : $"Not applied: when this payment arrived you were already on {currentPlan.Name} ({current.Interval.ToString().ToLowerInvariant()}), paid for this period, so it was refunded in full.";
    }

    /// <summary>
    /// Closes a plan payment that arrived too late to apply (ADR-144), in the caller's transaction, which holds the
    /// organization's plan: refunded in full, the plan unchanged. Recorded — status, total and a refund row keyed
    /// <see cref="DeclinedRefundKey"/>, audited — by whoever moves the payment out of pending; the money goes back after
    /// the commit, through the provider, when the row is applied (a failure there is retried by the refund sweep), and
    /// so does the first month's grant when an attempt booked it before the payment was found late (ADR-148).
    /// Stripe's subscription the checkout created is the Stripe handler's to cancel.
    /// </summary>
    async Task DeclineAsync(Payment payment, string reason, string? externalPaymentId, string? cardLast4, CancellationToken ct)
    {
        var claimed = await db.Payments.Where(p => p.Id == payment.Id && (p.Status == PaymentStatus.Pending || p.Status == PaymentStatus.Failed))
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Status, PaymentStatus.Refunded)
                .SetProperty(p => p.RefundedCents, p => p.AmountCents)
                .SetProperty(p => p.FailureReason, reason)
                .SetProperty(p => p.ExternalPaymentId, p => p.ExternalPaymentId ?? externalPaymentId)
                .SetProperty(p => p.CardLast4, p => p.CardLast4 ?? cardLast4), ct);
        if (claimed == 0)
        {
            return;
        }
        var refund = new PaymentRefund
        {
            PaymentId = payment.Id,
            OrganizationId = payment.OrganizationId,
            RefundKey = DeclinedRefundKey,
            Cents = payment.AmountCents,
            GrantCredits = await BookedFirstMonthAsync(payment, ct),
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        db.PaymentRefunds.Add(refund);
        audit.Record(Audit.AuditActions.PaymentRefunded, payment.OrganizationId, "payment", payment.Id,
            before: new { status = payment.Status, plan = payment.PlanCode, interval = payment.Interval },
            after: new { status = PaymentStatus.Refunded, refund_cents = payment.AmountCents, refund_grant_credits = refund.GrantCredits, reason = "plan_not_applied" });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The first month's credits booked for a plan payment now declined: an attempt found no conflict, granted them, and
    /// stopped before its claim (a crash), or lost its turn to a concurrent plan payment. None when the plan in force
    /// was granted under the same key (the same plan, started in the same second): those credits are that plan's own.
    /// </summary>
    async Task<long> BookedFirstMonthAsync(Payment payment, CancellationToken ct)
    {
        var key = CreditGrants.MonthlyKey(payment.OrganizationId, CreditGrants.FirstMonth(PeriodStart(payment), payment.PlanCode!));
        var current = await db.OrganizationPlans.AsNoTracking().FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        if (current.CurrentPeriodStartUtc is { } start && CreditGrants.MonthlyKey(payment.OrganizationId, CreditGrants.FirstMonth(start, current.PlanCode)) == key)
        {
            return 0;
        }
        return await db.LedgerOperations.AsNoTracking().Where(o => o.IdempotencyKey == key).SumAsync(o => o.Amount, ct);
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
    /// back in proportion; what was already spent becomes debt. A plan payment's monthly credits — every month its period
    /// granted so far, yearly plans included — are taken back in proportion, as far as they are unspent, and a full refund of the plan's current period ends the plan at once
    /// (Free) and the provider's subscription with it, so it bills no more. <paramref name="refundKey"/> identifies the refund (Stripe's refund or event id), so a replay changes nothing.
    /// The refund is recorded with the payment's new total in one transaction and its credits are taken back after it
    /// (ADR-135): a replay of the key finishes a refund that a crash interrupted. Answers a conflict, recording nothing, when
    /// another refund of the payment was recorded meanwhile: the caller chose the amount from what it read, so it decides
    /// again. A refund that would have completed the current plan's payment has by then ended the provider subscription;
    /// its retry completes the move to Free.
    /// </summary>
    /// <param name="expectedRefundedCents">
    /// What the caller saw refunded when it chose the amount (an operator's page): when the payment shows another total
    /// (a second click, another operator), the refund answers a conflict instead of refunding again.
    /// </param>
    public Task<RefundResult> RefundAsync(Guid paymentId, long amountCents, string refundKey, CancellationToken ct, long? expectedRefundedCents = null) =>
        RefundAsync(paymentId, payment => expectedRefundedCents is { } expected && expected != payment.RefundedCents ? null : amountCents, refundKey, ct);

    /// <summary>
    /// Refunds what is needed for the payment's refunds to total <paramref name="refundedTotalCents"/> (Stripe's cumulative
    /// <c>amount_refunded</c>), worked out from the same read of the payment that guards the update, so two refund events
    /// racing each other cannot both count the same cents.
    /// </summary>
    public Task<RefundResult> RefundToAsync(Guid paymentId, long refundedTotalCents, string refundKey, CancellationToken ct) =>
        RefundAsync(paymentId, payment => refundedTotalCents - payment.RefundedCents, refundKey, ct);

    /// <param name="amountOf">The cents to refund, from the payment as read; null for a conflict (the caller's view is stale).</param>
    async Task<RefundResult> RefundAsync(Guid paymentId, Func<Payment, long?> amountOf, string refundKey, CancellationToken ct)
    {
        // The payment is read before its refunds: a replay of this key committed in between is then either found below or
        // makes the guarded update fail, never booked twice.
        var payment = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        if (payment is null || payment.Status is PaymentStatus.Pending or PaymentStatus.Failed)
        {
            return new(null);
        }
        if (await db.PaymentRefunds.AsNoTracking().FirstOrDefaultAsync(r => r.PaymentId == paymentId && r.RefundKey == refundKey, ct) is { } recorded)
        {
            await ApplyAsync(recorded, payment, ct);
            return new(payment);
        }
        if (amountOf(payment) is not { } amountCents)
        {
            return new(null, Conflict: true);
        }
        var cents = Math.Min(amountCents, payment.AmountCents - payment.RefundedCents);
        if (cents <= 0)
        {
            return new(payment);
        }
        var isPlan = payment.Purpose is PaymentPurpose.Plan or PaymentPurpose.Renewal;
        var endedPlan = isPlan && payment.RefundedCents + cents >= payment.AmountCents ? await CurrentPlanPaidByAsync(payment, ct) : null;
        if (endedPlan?.ExternalSubscriptionId is { } subscription)
        {
            // Ended before the refund is recorded: should that fail, nothing is recorded, and the refund's retry ends it again.
            await provider.EndSubscriptionAsync(subscription, ct);
        }
        var refund = new PaymentRefund
        {
            PaymentId = payment.Id,
            OrganizationId = payment.OrganizationId,
            RefundKey = refundKey,
            Cents = cents,
            Credits = ShareOf(payment.Credits, payment, cents),
            GrantCredits = isPlan ? await GrantShareAsync(payment, cents, ct) : 0,
            EndedPlan = endedPlan is not null,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        var refunded = payment.RefundedCents + cents;
        var status = refunded >= payment.AmountCents ? PaymentStatus.Refunded : PaymentStatus.PartiallyRefunded;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            // Guarded by the total the refund was computed from: of two concurrent refunds, the second updates nothing.
            var updated = await db.Payments.Where(p => p.Id == payment.Id && p.RefundedCents == payment.RefundedCents)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.RefundedCents, refunded).SetProperty(p => p.Status, status), ct);
            if (updated == 0)
            {
                return new(null, Conflict: true); // disposing the transaction rolls it back
            }
            await db.Receipts.Where(r => r.PaymentId == payment.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Status, status), ct);
            db.PaymentRefunds.Add(refund);
            if (endedPlan is not null)
            {
                EndPlan(endedPlan, payment);
            }
            audit.Record(Audit.AuditActions.PaymentRefunded, payment.OrganizationId, "payment", payment.Id,
                before: new { status = payment.Status, refunded_cents = payment.RefundedCents },
                after: new { refund_cents = cents, refund_credits = refund.Credits, refunded_cents = refunded, refund = refundKey });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
        }
        if (endedPlan is not null)
        {
            cache.Forget(payment.OrganizationId);
        }
        await ApplyAsync(refund, payment, ct);
        return new(await db.Payments.AsNoTracking().FirstAsync(p => p.Id == paymentId, ct));
    }

    /// <summary>
    /// Takes back the credits of refunds recorded over a minute ago and never applied: the process stopped between the
    /// record and the ledger, and a Stripe refund might be retried but an operator's never is. Run by the credit jobs,
    /// in a system scope; safe beside a live request or another instance, since every ledger effect is keyed.
    /// </summary>
    public async Task FinishInterruptedRefundsAsync(CancellationToken ct)
    {
        var recordedBefore = clock.GetUtcNow().UtcDateTime - InterruptedRefundAge;
        var interrupted = await db.PaymentRefunds.AsNoTracking()
            .Where(r => r.AppliedUtc == null && r.CreatedUtc < recordedBefore)
            .OrderBy(r => r.CreatedUtc).Take(100)
            .Join(db.Payments.AsNoTracking(), r => r.PaymentId, p => p.Id, (r, p) => new { Refund = r, Payment = p })
            .ToListAsync(ct);
        foreach (var row in interrupted)
        {
            try
            {
                await ApplyAsync(row.Refund, row.Payment, ct);
                logger.LogWarning("Finished refund {Refund} of payment {PaymentId}, interrupted before its credits were taken back", row.Refund.Id, row.Payment.Id);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // One refund the ledger refuses must not hold back the others; it is tried again next tick.
                logger.LogError(exception, "Could not finish refund {Refund} of payment {PaymentId}", row.Refund.Id, row.Payment.Id);
            }
        }
    }

    /// <summary>
    /// Takes back what <paramref name="refund"/> recorded, under the keys refunds used before they were recorded, so one
    /// booked by that code and interrupted before the payment was updated replays instead of repeating; then marks it applied.
    /// </summary>
    async Task ApplyAsync(PaymentRefund refund, Payment payment, CancellationToken ct)
    {
        if (refund.AppliedUtc is not null)
        {
            return;
        }
        if (refund.RefundKey == DeclinedRefundKey)
        {
            // The money of a payment never applied: ours to return (other refunds are made at the provider and only
            // reported here). A refusal for good is the operator's to resolve: retrying it every tick would change nothing.
            if (await provider.RefundInFullAsync(payment, ct) is { Outcome: ProviderRefundOutcome.Refused } refused)
            {
                await RecordRefusedRefundAsync(payment, refused.Problem, ct);
            }
        }
        if (refund.Credits > 0)
        {
            EnsureApplied(await ledger.RefundAsync($"refund:{payment.Id}:{refund.RefundKey}", payment.OrganizationId, refund.Credits,
                $"Refund of {payment.Description}", "payment", payment.Id.ToString(), ct), payment);
        }
        if (refund.GrantCredits > 0)
        {
            EnsureApplied(await ledger.RevokeGrantAsync($"refund:{payment.Id}:{refund.RefundKey}:grant", payment.OrganizationId, refund.GrantCredits,
                $"Refund of {payment.Description}: its monthly credits taken back", "payment", payment.Id.ToString(), ct), payment);
        }
        var now = clock.GetUtcNow().UtcDateTime;
        await db.PaymentRefunds.Where(r => r.Id == refund.Id && r.AppliedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(r => r.AppliedUtc, now), ct);
    }

    /// <summary>
    /// Says on the payment, and to the operator in the audit log, that its money did not go back: the buyer sees it in
    /// the payment's reason, the operator refunds by hand. Once, however often the refund is applied again.
    /// </summary>
    async Task RecordRefusedRefundAsync(Payment payment, string? problem, CancellationToken ct)
    {
        var reason = $"Not applied, and the payment provider refused to refund it ({problem}): an operator has been told and will return the money.";
        var recorded = await db.Payments.Where(p => p.Id == payment.Id && p.FailureReason != reason)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.FailureReason, reason), ct);
        if (recorded == 1)
        {
            logger.LogError("The provider refused to refund declined payment {PaymentId}: {Problem}", payment.Id, problem);
            audit.Record(Audit.AuditActions.PaymentRefundFailed, payment.OrganizationId, "payment", payment.Id,
                before: new { status = payment.Status }, after: new { refund_cents = payment.AmountCents, problem, reason = "plan_not_applied" });
            await db.SaveChangesAsync(ct);
        }
    }

    /// <summary>
    /// Gives back what the refund <paramref name="refundKey"/> of a payment took, once the money came back (a dispute
    /// won: Stripe reinstated its funds): the paid credits it took back or turned into debt (a purchase of them repays the
    /// debt first, as the refund made it) and the monthly credits its grant revocation actually took, never more. Keyed
    /// by the refund, so a redelivery changes nothing. The payment's refunded total and a plan the refund ended stay as
    /// they are (ADR-148). False when no such refund is recorded.
    /// </summary>
    public async Task<bool> ReinstateAsync(Guid paymentId, string refundKey, CancellationToken ct)
    {
        var payment = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, ct);
        var refund = payment is null ? null : await db.PaymentRefunds.AsNoTracking().FirstOrDefaultAsync(r => r.PaymentId == paymentId && r.RefundKey == refundKey, ct);
        if (payment is null || refund is null)
        {
            return false;
        }
        // Finished first (a crash may have left it recorded only), so what it took is in the ledger and cannot be taken after.
        await ApplyAsync(refund, payment, ct);
        if (refund.Credits > 0)
        {
            EnsureApplied(await ledger.PurchaseAsync($"reinstated:{payment.Id}:{refundKey}", payment.OrganizationId, refund.Credits,
                $"Returned: {payment.Description}", "payment", payment.Id.ToString(), ct), payment);
        }
        var grantTaken = -await db.LedgerOperations.AsNoTracking().Where(o => o.IdempotencyKey == $"refund:{payment.Id}:{refundKey}:grant").SumAsync(o => o.Amount, ct);
        if (grantTaken > 0)
        {
            EnsureApplied(await ledger.GrantAsync($"reinstated:{payment.Id}:{refundKey}:grant", payment.OrganizationId, grantTaken, "monthly",
                $"Returned: {payment.Description}: its monthly credits", ct), payment);
        }
        return true;
    }

    /// <summary>
    /// The share of <paramref name="credits"/> that refunding <paramref name="cents"/> more of the payment takes back,
    /// counted on the refunds' running total, so partial refunds that add up to the whole take back exactly the whole.
    /// </summary>
    static long ShareOf(long credits, Payment payment, long cents) =>
        payment.AmountCents == 0 ? 0
            : credits * (payment.RefundedCents + cents) / payment.AmountCents - credits * payment.RefundedCents / payment.AmountCents;

    /// <summary>
    /// The monthly credits refunding <paramref name="cents"/> more of a plan payment takes back: the refunds' running share
    /// of what the payment's period has granted so far (every month of a yearly plan, not only the first), less what its
    /// earlier refunds took, so refunds that add up to the whole take back all of it. The ledger then takes no more than
    /// the wallet still holds granted (<see cref="CreditLedger.RevokeGrantAsync"/>). Read after the payment, as the
    /// refunds are: a refund recorded in between fails the guarded update.
    /// </summary>
    async Task<long> GrantShareAsync(Payment payment, long cents, CancellationToken ct)
    {
        var keys = CreditGrants.MonthlyKeys(payment.OrganizationId, payment.PlanCode!, PeriodStart(payment), payment.Interval ?? BillingInterval.Monthly);
        var granted = await db.LedgerOperations.AsNoTracking().Where(o => keys.Contains(o.IdempotencyKey)).SumAsync(o => o.Amount, ct);
        var taken = await db.PaymentRefunds.AsNoTracking().Where(r => r.PaymentId == payment.Id).SumAsync(r => r.GrantCredits, ct);
        return payment.AmountCents == 0 ? 0 : Math.Max(0, granted * (payment.RefundedCents + cents) / payment.AmountCents - taken);
    }

    /// <summary>The organization's plan when <paramref name="payment"/> paid for its current period, else null.</summary>
    async Task<OrganizationPlan?> CurrentPlanPaidByAsync(Payment payment, CancellationToken ct)
    {
        var plan = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        return plan.PlanCode == payment.PlanCode && plan.CurrentPeriodStartUtc == PeriodStart(payment) ? plan : null;
    }

    /// <summary>
    /// Puts the organization on Free at once: the refund completed the payment of its current period (<paramref name="ended"/>),
    /// whose provider subscription is already ended.
    /// </summary>
    void EndPlan(OrganizationPlan ended, Payment payment)
    {
        audit.Record(Audit.AuditActions.PlanChanged, payment.OrganizationId, "organization_plan", payment.OrganizationId,
            before: new { plan = ended.PlanCode, interval = ended.Interval }, after: new { plan = Plan.Free, reason = "refunded", payment = payment.Id });
        ended.ExternalSubscriptionId = null;
        ended.PlanCode = Plan.Free;
        ended.Interval = BillingInterval.Monthly;
        ended.CurrentPeriodStartUtc = ended.CurrentPeriodEndUtc = ended.CreditPeriodStartUtc = null;
        ended.ScheduledPlanCode = null;
        ended.ScheduledInterval = null;
        ended.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
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
