using AgentMarket.Credits.Plans;
using AgentMarket.Payments.Stripe;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments;

/// <summary>
/// Automatic top-ups (Plus and Pro): when a run takes the wallet below the organization's threshold, the chosen package
/// is charged to the saved payment method — the sandbox's test card, or the card a Stripe Checkout saved — without the
/// buyer present. One purchase per crossing whatever the concurrency; credits only once the payment succeeded; a refused
/// card switches auto top-up off and tells the owners why.
/// </summary>
sealed class AutoTopUps(AppDbContext db, IPaymentProvider provider, Fulfilment fulfilment, TimeProvider clock, Audit.AuditLog audit,
    Microsoft.Extensions.Options.IOptions<Credits.CreditsOptions> options, ILogger<AutoTopUps> logger)
{
    /// <summary>
    /// A charge Stripe did not answer stays pending and is retried, by a later run or by the credit jobs, with the same
    /// idempotency key (so Stripe charges once) — but not while the first attempt may still be in flight, and not after
    /// Stripe has forgotten the key (24 hours): then the payment counts as failed (a webhook may still report it paid).
    /// </summary>
    static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(1);
    static readonly TimeSpan RetryUntil = TimeSpan.FromHours(23);

    public const string FailedEvent = "credits.auto_top_up_failed";

    public async Task TopUpAsync(OrganizationPlan settings, Guid packageId, string key, CancellationToken ct)
    {
        var plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == settings.PlanCode, ct);
        var package = await db.CreditPackages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == packageId && p.Active, ct);
        if (!plan.CanTopUp || package is null)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        // A threshold one purchase cannot lift the balance above (set while the balance was higher, or after a large
        // spend) would buy on every run: a daily cap bounds what the card is charged whatever the settings. Counted before
        // the insert: new keys follow purchases one by one, so runs racing here share a key and buy once anyway.
        var perDay = options.Value.AutoTopUpsPerDay;
        var day = now.AddDays(-1);
        if (await db.Payments.CountAsync(p => p.OrganizationId == settings.OrganizationId && p.Purpose == PaymentPurpose.AutoTopUp
                && p.CreatedUtc > day && p.Status != PaymentStatus.Failed, ct) >= perDay
            && !await db.Payments.AnyAsync(p => p.IdempotencyKey == key, ct))
        {
            logger.LogWarning("Auto top-up of organization {Organization} skipped: {PerDay} automatic purchases in the last 24 hours", settings.OrganizationId, perDay);
            return;
        }
        var payment = new Payment
        {
            OrganizationId = settings.OrganizationId,
            Provider = provider.Kind,
            Purpose = PaymentPurpose.AutoTopUp,
            PackageId = package.Id,
            AmountCents = package.PriceCents,
            Credits = package.TotalCredits,
            Description = $"Auto top-up: {package.Name} package, {package.TotalCredits:N0} credits",
            Status = PaymentStatus.Pending,
            IdempotencyKey = key,
            CreatedUtc = now,
        };
        db.Payments.Add(payment);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            db.Entry(payment).State = EntityState.Detached;
            // Another run crossed the same threshold first and owns this top-up; only a charge Stripe never answered is retried.
            var existing = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.IdempotencyKey == payment.IdempotencyKey, ct);
            if (existing is not { Status: PaymentStatus.Pending, ExternalPaymentId: null } || now - existing.CreatedUtc < RetryAfter || now - existing.CreatedUtc > RetryUntil)
            {
                return;
            }
            payment = existing;
        }
        await ChargeAsync(payment, ct);
    }

    /// <summary>
    /// The credit jobs' share: a pending automatic payment Stripe never answered is charged again with its key while Stripe
    /// remembers the key and auto top-up is still on; after that it fails (<see cref="ExpireAsync"/>), so the next crossing
    /// can buy. Without this, a wallet emptied meanwhile refuses every run before it settles, and nothing would retry.
    /// </summary>
    public async Task RetryUnansweredAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var answerable = now - RetryAfter;
        var unanswered = await db.Payments.AsNoTracking()
            .Where(p => p.Purpose == PaymentPurpose.AutoTopUp && p.Status == PaymentStatus.Pending && p.ExternalPaymentId == null && p.CreatedUtc < answerable)
            .OrderBy(p => p.CreatedUtc).Take(100).ToListAsync(ct);
        foreach (var payment in unanswered)
        {
            // One payment failing (a database error, a refused grant) must not stop the retries of those after it.
            try
            {
                var stillOn = await db.OrganizationPlans.AnyAsync(p => p.OrganizationId == payment.OrganizationId && p.AutoTopUpPackageId != null, ct);
                if (now - payment.CreatedUtc > RetryUntil || !stillOn)
                {
                    await ExpireAsync(payment.Id, stillOn
                        ? "The payment provider did not answer; the next top-up is a new purchase."
                        : "Auto top-up was switched off before the payment provider answered.", ct);
                }
                else
                {
                    await ChargeAsync(payment, ct);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                db.ChangeTracker.Clear();
                logger.LogError(exception, "Retrying auto top-up {PaymentId} failed; retrying next tick", payment.Id);
            }
        }
    }

    /// <summary>
    /// An unanswered payment Stripe can no longer be asked about fails without switching auto top-up off (nobody refused
    /// it), and the failure's time moves the next crossing to a new key. Had Stripe charged it after all, its
    /// <c>payment_intent.succeeded</c> still credits it (fulfilment accepts a failed payment).
    /// </summary>
    async Task ExpireAsync(Guid paymentId, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var expired = await db.Payments.Where(p => p.Id == paymentId && p.Status == PaymentStatus.Pending && p.ExternalPaymentId == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Status, PaymentStatus.Failed)
                .SetProperty(p => p.FailureReason, reason)
                .SetProperty(p => p.CompletedUtc, now), ct);
        if (expired == 1)
        {
            var organization = await db.Payments.Where(p => p.Id == paymentId).Select(p => p.OrganizationId).FirstAsync(ct);
            await db.OrganizationPlans.Where(p => p.OrganizationId == organization)
                .ExecuteUpdateAsync(s => s.SetProperty(p => p.AutoTopUpFailedUtc, now).SetProperty(p => p.UpdatedUtc, now), ct);
            logger.LogWarning("Auto top-up {PaymentId} of organization {Organization} got no answer from the payment provider and failed", paymentId, organization);
        }
        await transaction.CommitAsync(ct);
    }

    async Task ChargeAsync(Payment payment, CancellationToken ct)
    {
        OffSessionCharge charge;
        try
        {
            charge = await provider.ChargeSavedPaymentMethodAsync(payment, ct);
        }
        catch (Exception exception) when (exception is StripeApiException or System.Text.Json.JsonException)
        {
            logger.LogWarning(exception, "Auto top-up {PaymentId} could not reach the payment provider; a later run or the credit jobs retry it", payment.Id);
            return;
        }
        switch (charge.Outcome)
        {
            case OffSessionOutcome.Succeeded:
                await fulfilment.SucceedAsync(payment.Id, charge.ExternalPaymentId, charge.CardLast4, ct);
                break;
            case OffSessionOutcome.Pending:
                // The webhook (payment_intent.succeeded or .payment_failed) finds the payment by this id or its metadata.
                await db.Payments.Where(p => p.Id == payment.Id && p.ExternalPaymentId == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(p => p.ExternalPaymentId, charge.ExternalPaymentId), ct);
                break;
            default:
                await FailAsync(payment.Id, charge.ExternalPaymentId, charge.FailureReason ?? "The saved card could not be charged.", ct);
                break;
        }
    }

    /// <summary>
    /// One automatic purchase per crossing: the key names the last purchase before the balance was read (the sandbox and
    /// Stripe alike; read it first), and the last failure, so turning auto top-up on again after a refused card tries once more.
    /// </summary>
    public async Task<string> KeyAsync(OrganizationPlan settings, CancellationToken ct)
    {
        var lastPurchase = await db.LedgerOperations.Where(o => o.OrganizationId == settings.OrganizationId && o.Code == "purchase")
            .OrderByDescending(o => o.CreatedUtc).Select(o => (Guid?)o.Id).FirstOrDefaultAsync(ct);
        var key = $"auto_topup:{settings.OrganizationId}:{lastPurchase?.ToString() ?? "first"}";
        return settings.AutoTopUpFailedUtc is { } failed ? $"{key}:after:{failed:yyyyMMddHHmmssfff}" : key;
    }

    /// <summary>
    /// A refused automatic payment (now, or reported later by the provider's webhook): the payment fails, auto top-up is
    /// switched off with the reason recorded and audited, and the owners get an email and a <c>credits.auto_top_up_failed</c>
    /// event. Once per payment: a replayed or late report of a payment no longer pending changes nothing.
    /// </summary>
    public async Task FailAsync(Guid paymentId, string? externalPaymentId, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var failed = await db.Payments.Where(p => p.Id == paymentId && p.Purpose == PaymentPurpose.AutoTopUp && p.Status == PaymentStatus.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(p => p.Status, PaymentStatus.Failed)
                .SetProperty(p => p.FailureReason, reason)
                .SetProperty(p => p.CompletedUtc, now)
                .SetProperty(p => p.ExternalPaymentId, p => p.ExternalPaymentId ?? externalPaymentId), ct);
        if (failed == 0)
        {
            return;
        }
        var payment = await db.Payments.AsNoTracking().FirstAsync(p => p.Id == paymentId, ct);
        var settings = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == payment.OrganizationId, ct);
        audit.Record(Audit.AuditActions.AutoTopUpDisabled, payment.OrganizationId, "organization_plan", payment.OrganizationId,
            before: new { auto_top_up_package = settings.AutoTopUpPackageId, auto_top_up_threshold = settings.AutoTopUpThreshold },
            after: new { auto_top_up_package = (Guid?)null, reason, payment = payment.Id });
        settings.AutoTopUpPackageId = null;
        settings.AutoTopUpThreshold = null;
        settings.AutoTopUpFailureReason = reason;
        settings.AutoTopUpFailedUtc = now;
        settings.UpdatedUtc = now;

        var owners = await db.Memberships.Where(m => m.OrganizationId == payment.OrganizationId && m.Role == Identity.MembershipRole.Owner).Select(m => m.User!.Email).ToListAsync(ct);
        foreach (var owner in owners)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = owner,
                Subject = "Your automatic top-up failed",
                Body = $"We could not buy {payment.Credits:N0} credits (${payment.AmountCents / 100m:0.00}) for your organization: {reason} " +
                    "Automatic top-up is now off. Buy a package on the credits page to keep your agents running, then turn automatic top-up on again.",
                CreatedUtc = now,
            });
        }
        db.OutboxEvents.Add(OutboxEvent.Create(payment.OrganizationId, FailedEvent,
            new { payment = payment.Id, amount_cents = payment.AmountCents, credits = payment.Credits, reason, auto_top_up = "disabled" }, now));
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        logger.LogWarning("Auto top-up {PaymentId} of organization {Organization} failed and auto top-up was switched off", payment.Id, payment.OrganizationId);
    }
}
