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
    /// Between attempts the wait doubles up to an hour (<see cref="ClaimAttemptAsync"/>), so an outage is not a request
    /// per job tick, or per run, for each organization.
    /// </summary>
    static readonly TimeSpan RetryAfter = TimeSpan.FromMinutes(1);
    static readonly TimeSpan LongestWait = TimeSpan.FromHours(1);
    static readonly TimeSpan RetryUntil = TimeSpan.FromHours(23);

    /// <summary>Advisory-lock key space of the daily cap's decision; the second key is derived from the organization.</summary>
    const int PostgresLockSpace = 0x4154; // "AT"

    public const string FailedEvent = "credits.auto_top_up_failed";
    public const string PausedEvent = "credits.auto_top_up_paused";

    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> FailedEventFields =
    [
        new("payment", "The refused payment's uuid."),
        new("amount_cents", "What it would have cost, in US cents."),
        new("credits", "Credits it would have added."),
        new("reason", "Why it failed, in words (declined, or the bank asked for authentication)."),
        new("auto_top_up", "Always disabled: auto top-up is now off until turned on again."),
    ];

    public static readonly IReadOnlyList<Webhooks.WebhookPayloadField> PausedEventFields =
    [
        new("paused_until", "When auto top-up resumes (UTC): when the oldest automatic purchase of the last 24 hours is 24 hours old."),
        new("automatic_purchases", "The daily limit of automatic purchases, reached."),
    ];

    public async Task TopUpAsync(OrganizationPlan settings, Guid packageId, string key, CancellationToken ct)
    {
        var plan = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == settings.PlanCode, ct);
        var package = await db.CreditPackages.AsNoTracking().FirstOrDefaultAsync(p => p.Id == packageId && p.Active, ct);
        if (!plan.CanTopUp || package is null)
        {
            return;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        Payment payment;
        // A threshold one purchase cannot lift the balance above (set while the balance was higher, or after a large
        // spend) would buy on every run: a daily cap bounds what the card is charged whatever the settings. Counted and
        // inserted under the organization's lock: runs crossing at once with different keys (a manual purchase between
        // their reads of the key) would otherwise both see one purchase left and both buy.
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            await db.Database.LockOrganizationAsync(PostgresLockSpace, settings.OrganizationId, ct);
            var existing = await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.IdempotencyKey == key, ct);
            if (existing is not null)
            {
                await transaction.CommitAsync(ct); // nothing written; the lock is not held while the provider is called
                // Another run crossed the same threshold first and owns this top-up; only a charge Stripe never answered,
                // and due again, is retried.
                if (existing is not { Status: PaymentStatus.Pending, ExternalPaymentId: null } || now - existing.CreatedUtc > RetryUntil
                    || !await ClaimAttemptAsync(existing, now, ct))
                {
                    return;
                }
                payment = existing;
            }
            else if (await PausedUntilAsync(settings.OrganizationId, ct) is { } pausedUntil)
            {
                await PauseAsync(settings.OrganizationId, pausedUntil, now, ct);
                await transaction.CommitAsync(ct);
                return;
            }
            else
            {
                payment = new Payment
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
                    NextAttemptUtc = now + RetryAfter,
                    CreatedUtc = now,
                };
                db.Payments.Add(payment);
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }
        }
        await ChargeAsync(payment, ct);
    }

    /// <summary>
    /// While the organization has made <see cref="Credits.CreditsOptions.AutoTopUpsPerDay"/> automatic payments (not
    /// failed) in the last 24 hours, no new one is made: until the oldest of them is 24 hours old. Null when not capped.
    /// </summary>
    public async Task<DateTime?> PausedUntilAsync(Guid organization, CancellationToken ct)
    {
        var day = clock.GetUtcNow().UtcDateTime.AddDays(-1);
        var counted = await db.Payments.AsNoTracking()
            .Where(p => p.OrganizationId == organization && p.Purpose == PaymentPurpose.AutoTopUp && p.CreatedUtc > day && p.Status != PaymentStatus.Failed)
            .OrderByDescending(p => p.CreatedUtc).Select(p => p.CreatedUtc).Take(options.Value.AutoTopUpsPerDay).ToListAsync(ct);
        return counted.Count < options.Value.AutoTopUpsPerDay ? null : counted[^1].AddDays(1);
    }

    /// <summary>
    /// The cap stopped a purchase, so the buyer's runs may soon be refused for want of credits: the owners learn why
    /// (audit entry, email, <c>credits.auto_top_up_paused</c>) at most once a day, whichever run or instance hits it.
    /// </summary>
    async Task PauseAsync(Guid organization, DateTime until, DateTime now, CancellationToken ct)
    {
        var perDay = options.Value.AutoTopUpsPerDay;
        logger.LogWarning("Auto top-up of organization {Organization} skipped: {PerDay} automatic purchases in the last 24 hours", organization, perDay);
        var dayAgo = now.AddDays(-1);
        var first = await db.OrganizationPlans.Where(p => p.OrganizationId == organization && (p.AutoTopUpPausedUtc == null || p.AutoTopUpPausedUtc <= dayAgo))
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.AutoTopUpPausedUtc, now), ct);
        if (first == 0)
        {
            return;
        }
        audit.Record(Audit.AuditActions.AutoTopUpPaused, organization, "organization_plan", organization,
            before: null, after: new { paused_until = until, automatic_purchases = perDay });
        var owners = await db.Memberships.Where(m => m.OrganizationId == organization && m.Role == Identity.MembershipRole.Owner).Select(m => m.User!.Email).ToListAsync(ct);
        foreach (var owner in owners)
        {
            db.OutboxEmails.Add(new OutboxEmail
            {
                Recipient = owner,
                Subject = "Automatic top-up paused for today",
                Body = $"Your organization has made {perDay} automatic purchases in the last 24 hours, the daily limit, so a low balance was not topped up. " +
                    $"Automatic top-up resumes at {until:yyyy-MM-dd HH:mm} UTC. Until then, buy a package on the credits page to keep your agents running.",
                CreatedUtc = now,
            });
        }
        db.OutboxEvents.Add(OutboxEvent.Create(organization, PausedEvent, new { paused_until = until, automatic_purchases = perDay }, now));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The credit jobs' share: a pending automatic payment Stripe never answered is charged again with its key, when due,
    /// while Stripe remembers the key and auto top-up is still on; after that it fails (<see cref="ExpireAsync"/>), so
    /// the next crossing can buy. Without this, a wallet emptied meanwhile refuses every run before it settles, and
    /// nothing would retry.
    /// </summary>
    public async Task RetryUnansweredAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var answerable = now - RetryAfter;
        var forgotten = now - RetryUntil;
        var unanswered = await db.Payments.AsNoTracking()
            .Where(p => p.Purpose == PaymentPurpose.AutoTopUp && p.Status == PaymentStatus.Pending && p.ExternalPaymentId == null && p.CreatedUtc < answerable
                && (p.NextAttemptUtc == null || p.NextAttemptUtc <= now || p.CreatedUtc < forgotten
                    || !db.OrganizationPlans.Any(o => o.OrganizationId == p.OrganizationId && o.AutoTopUpPackageId != null)))
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
                else if (await ClaimAttemptAsync(payment, now, ct))
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
    /// Takes the next attempt at an unanswered payment if it is due, and schedules the one after: the wait doubles with
    /// the age it was due at (tried when 1, 2, 4 … 64 minutes old), then hourly. A conditional update, so of the runs and
    /// job instances that find it due, one calls the provider. A job that was down picks it up at once, then waits again.
    /// </summary>
    async Task<bool> ClaimAttemptAsync(Payment payment, DateTime now, CancellationToken ct)
    {
        var due = payment.NextAttemptUtc ?? payment.CreatedUtc + RetryAfter;
        if (due > now)
        {
            return false;
        }
        var wait = TimeSpan.FromTicks(Math.Clamp((due - payment.CreatedUtc).Ticks, RetryAfter.Ticks, LongestWait.Ticks));
        var next = due + wait > now ? due + wait : now + wait;
        var scheduled = payment.NextAttemptUtc;
        return await db.Payments.Where(p => p.Id == payment.Id && p.Status == PaymentStatus.Pending && p.ExternalPaymentId == null && p.NextAttemptUtc == scheduled)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.NextAttemptUtc, next), ct) == 1;
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
