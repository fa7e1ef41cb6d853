using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// Turns verified Stripe events into <see cref="Fulfilment"/> calls. Runs in a system scope (a webhook has no tenant).
/// Every effect is keyed (the payment, the invoice, the refund), so a redelivered or concurrent event changes nothing
/// more; <see cref="ProcessedStripeEvent"/> additionally skips events already handled.
/// </summary>
sealed class StripeEventHandler(AppDbContext db, Fulfilment fulfilment, AutoTopUps autoTopUps, StripeClient stripe, Payouts.StripeConnectEvents connect, TimeProvider clock, ILogger<StripeEventHandler> logger)
{
    /// <summary>Handles <paramref name="stripeEvent"/> once; false when it had been handled before.</summary>
    public async Task<bool> HandleOnceAsync(StripeEvent stripeEvent, CancellationToken ct)
    {
        if (await db.ProcessedStripeEvents.AnyAsync(e => e.EventId == stripeEvent.Id, ct))
        {
            return false;
        }
        await HandleAsync(stripeEvent, ct);
        // Recorded after the work, so an event whose handling failed is handled again when Stripe retries it.
        db.ProcessedStripeEvents.Add(new ProcessedStripeEvent { EventId = stripeEvent.Id, Type = stripeEvent.Type, ProcessedUtc = clock.GetUtcNow().UtcDateTime });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            if (!await db.ProcessedStripeEvents.AsNoTracking().AnyAsync(e => e.EventId == stripeEvent.Id, ct))
            {
                throw;
            }
            // A concurrent delivery of the same event recorded it first; its effects were idempotent.
        }
        return true;
    }

    Task HandleAsync(StripeEvent stripeEvent, CancellationToken ct) => stripeEvent.Type switch
    {
        "checkout.session.completed" or "checkout.session.async_payment_succeeded" => CheckoutPaidAsync(stripeEvent.Object<StripeCheckoutSession>(), ct),
        "checkout.session.async_payment_failed" => CheckoutFailedAsync(stripeEvent.Object<StripeCheckoutSession>(), "The payment failed.", ct),
        "checkout.session.expired" => CheckoutFailedAsync(stripeEvent.Object<StripeCheckoutSession>(), "The checkout expired before it was paid.", ct),
        "invoice.paid" => InvoicePaidAsync(stripeEvent.Object<StripeInvoice>(), ct),
        "customer.subscription.deleted" => SubscriptionDeletedAsync(stripeEvent.Object<StripeSubscription>(), ct),
        "charge.refunded" => ChargeRefundedAsync(stripeEvent.Id, stripeEvent.Object<StripeCharge>(), ct),
        "charge.dispute.funds_withdrawn" => DisputeFundsWithdrawnAsync(stripeEvent.Object<StripeDispute>(), ct),
        "charge.dispute.funds_reinstated" => DisputeFundsReinstatedAsync(stripeEvent.Object<StripeDispute>(), ct),
        "payment_intent.succeeded" => AutoTopUpSucceededAsync(stripeEvent.Object<StripePaymentIntent>(), ct),
        "payment_intent.payment_failed" => AutoTopUpFailedAsync(stripeEvent.Object<StripePaymentIntent>(), ct),
        "account.updated" => connect.AccountUpdatedAsync(stripeEvent.Data.Object, ct),
        "transfer.created" or "transfer.updated" or "transfer.reversed" => connect.TransferAsync(stripeEvent.Type, stripeEvent.Data.Object, ct),
        _ => Task.CompletedTask, // the endpoint may be subscribed to more events than we act on
    };

    async Task CheckoutPaidAsync(StripeCheckoutSession session, CancellationToken ct)
    {
        if (await OurPaymentAsync(session, ct) is not { } payment)
        {
            return;
        }
        // "unpaid" means a delayed payment method (a bank debit): checkout.session.async_payment_succeeded follows.
        if (session.PaymentStatus is not ("paid" or "no_payment_required"))
        {
            return;
        }
        var subscription = session.Mode == "subscription";
        // Refunds arrive as charge.refunded naming the payment intent, or for a subscription's first charge its invoice.
        var paid = await fulfilment.SucceedAsync(payment.Id, subscription ? session.Invoice : session.PaymentIntent, null, ct);
        if (subscription && session.Subscription is { } subscriptionId && paid?.Status == PaymentStatus.Succeeded)
        {
            await LinkSubscriptionAsync(payment.OrganizationId, subscriptionId, ct);
        }
        else if (subscription && session.Subscription is { } unwanted
            && await db.PaymentRefunds.AsNoTracking().AnyAsync(r => r.PaymentId == payment.Id && r.RefundKey == Fulfilment.DeclinedRefundKey, ct))
        {
            // A plan checkout paid too late to apply (Fulfilment declined and refunded it): the subscription it created
            // must not bill again, and the one billing the current plan stays.
            await stripe.CancelSubscriptionAsync(unwanted, ct);
            logger.LogInformation("Cancelled subscription {Subscription} of declined payment {PaymentId}", unwanted, payment.Id);
        }
        if (session.Customer is { } customer)
        {
            await SaveCustomerAsync(payment, customer, subscription ? null : session.PaymentIntent, ct);
        }
    }

    /// <summary>
    /// Remembers the organization's Stripe customer (later checkouts reuse it) and, after a package's Checkout, the card it
    /// saved for off-session use — what auto top-up charges. The webhook names the PaymentIntent only, so the card is read
    /// from it; a card saved without off-session consent is not kept.
    /// </summary>
    async Task SaveCustomerAsync(Payment payment, string customerId, string? paymentIntentId, CancellationToken ct)
    {
        StripeClient.PaymentIntent? intent = null;
        if (paymentIntentId is not null && payment.Purpose == PaymentPurpose.Package)
        {
            intent = await stripe.GetPaymentIntentAsync(paymentIntentId, ct);
            if (intent.SetupFutureUsage != "off_session" || intent.Customer != customerId)
            {
                intent = null;
            }
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var saved = await db.PaymentCustomers.FirstOrDefaultAsync(c => c.OrganizationId == payment.OrganizationId, ct);
        if (saved is null)
        {
            saved = new PaymentCustomer { OrganizationId = payment.OrganizationId, CustomerId = customerId, CreatedUtc = now };
            db.PaymentCustomers.Add(saved);
        }
        else if (saved.CustomerId != customerId)
        {
            // Another customer (a checkout started before the first one was known): its card belongs to it, not to the old one.
            saved.CustomerId = customerId;
            saved.PaymentMethodId = saved.CardBrand = saved.CardLast4 = null;
            saved.CardCheckoutStartedUtc = null;
        }
        // The card of the checkout the buyer started last is the one they expect automatic top-ups to use, whatever
        // order Stripe delivers the checkouts' webhooks in.
        if (intent?.PaymentMethodId is { } paymentMethod && (saved.CardCheckoutStartedUtc is null || payment.CreatedUtc >= saved.CardCheckoutStartedUtc))
        {
            saved.PaymentMethodId = paymentMethod;
            (saved.CardBrand, saved.CardLast4) = intent.Card;
            saved.CardCheckoutStartedUtc = payment.CreatedUtc;
        }
        saved.UpdatedUtc = now;
        // Two first checkouts of one organization completing at once: the loser's unique-index violation fails this
        // delivery, and Stripe's retry updates the row the winner created.
        await db.SaveChangesAsync(ct);
    }

    /// <summary>An automatic top-up's charge that was still processing when it was made has succeeded: credits and receipt, once.</summary>
    async Task AutoTopUpSucceededAsync(StripePaymentIntent intent, CancellationToken ct)
    {
        if (await AutoTopUpAsync(intent, ct) is { } payment)
        {
            await fulfilment.SucceedAsync(payment.Id, intent.Id, null, ct);
        }
    }

    async Task AutoTopUpFailedAsync(StripePaymentIntent intent, CancellationToken ct)
    {
        if (await AutoTopUpAsync(intent, ct) is { } payment)
        {
            await autoTopUps.FailAsync(payment.Id, intent.Id, StripePaymentProvider.RefusalReason(intent.LastPaymentError?.Code, intent.LastPaymentError?.DeclineCode), ct);
        }
    }

    /// <summary>
    /// The automatic top-up a PaymentIntent pays, by its <c>metadata[payment_id]</c>. Checkout's own PaymentIntents are
    /// fulfilled through <c>checkout.session.*</c> events and ignored here.
    /// </summary>
    async Task<Payment?> AutoTopUpAsync(StripePaymentIntent intent, CancellationToken ct) => intent.PaymentId is { } id
        ? await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.Provider == PaymentProviderKind.Stripe && p.Purpose == PaymentPurpose.AutoTopUp, ct)
        : null;

    /// <summary>
    /// Records which Stripe subscription bills the organization's plan. A plan change through Checkout creates a new
    /// subscription, so the previous one is cancelled first: one organization, one plan, one bill. Cancelling before
    /// saving means a failure here is retried with the event.
    /// </summary>
    async Task LinkSubscriptionAsync(Guid organizationId, string subscriptionId, CancellationToken ct)
    {
        var plan = await db.OrganizationPlans.FirstAsync(p => p.OrganizationId == organizationId, ct);
        if (plan.ExternalSubscriptionId == subscriptionId)
        {
            return;
        }
        if (plan.ExternalSubscriptionId is { } previous)
        {
            await stripe.CancelSubscriptionAsync(previous, ct);
            logger.LogInformation("Cancelled subscription {Previous} of organization {Organization}, replaced by {Subscription}", previous, organizationId, subscriptionId);
        }
        plan.ExternalSubscriptionId = subscriptionId;
        plan.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
    }

    async Task CheckoutFailedAsync(StripeCheckoutSession session, string reason, CancellationToken ct)
    {
        if (await OurPaymentAsync(session, ct) is { } payment)
        {
            await fulfilment.FailAsync(payment.Id, reason, ct);
        }
    }

    /// <summary>
    /// A paid subscription invoice renews the plan for the period it covers. The first invoice of a subscription is
    /// paid through Checkout and fulfilled by checkout.session.completed, so it is skipped; renewals are keyed by the
    /// invoice id, so a redelivery finds the same payment.
    /// </summary>
    async Task InvoicePaidAsync(StripeInvoice invoice, CancellationToken ct)
    {
        if (invoice.SubscriptionId is not { } subscriptionId || invoice.BillingReason == "subscription_create")
        {
            return;
        }
        var key = $"stripe:invoice:{invoice.Id}";
        var renewal = await db.Payments.AsNoTracking().Where(p => p.IdempotencyKey == key).Select(p => (Guid?)p.Id).FirstOrDefaultAsync(ct);
        if (renewal is null)
        {
            if (await db.Payments.AnyAsync(p => p.Provider == PaymentProviderKind.Stripe && p.ExternalPaymentId == invoice.Id, ct))
            {
                return; // the invoice Checkout paid
            }
            var plan = await db.OrganizationPlans.AsNoTracking().FirstOrDefaultAsync(p => p.ExternalSubscriptionId == subscriptionId, ct);
            if (plan is null)
            {
                logger.LogWarning("invoice.paid {Invoice} names subscription {Subscription}, which bills no organization's plan; ignored", invoice.Id, subscriptionId);
                return;
            }
            renewal = await CreateRenewalAsync(invoice, plan, key, ct);
        }
        await fulfilment.SucceedAsync(renewal.Value, invoice.Id, null, ct);
    }

    async Task<Guid> CreateRenewalAsync(StripeInvoice invoice, OrganizationPlan plan, string key, CancellationToken ct)
    {
        // A downgrade scheduled for this period's end changed the subscription's price: this invoice pays the new plan.
        var (planCode, interval) = plan.ScheduledPlanCode is { } scheduled && scheduled != Plan.Free
            ? (scheduled, plan.ScheduledInterval ?? plan.Interval)
            : (plan.PlanCode, plan.Interval);
        var definition = await db.Plans.AsNoTracking().FirstAsync(p => p.Code == planCode, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var payment = new Payment
        {
            OrganizationId = plan.OrganizationId,
            Provider = PaymentProviderKind.Stripe,
            Purpose = PaymentPurpose.Renewal,
            PlanCode = planCode,
            Interval = interval,
            AmountCents = invoice.AmountPaid,
            Description = $"{definition.Name} plan renewal ({interval.ToString().ToLowerInvariant()})",
            Status = PaymentStatus.Pending,
            IdempotencyKey = key,
            ExternalPaymentId = invoice.Id,
            PeriodStartUtc = invoice.PeriodStartUtc ?? plan.CurrentPeriodEndUtc ?? now,
            CreatedUtc = now,
        };
        db.Payments.Add(payment);
        try
        {
            await db.SaveChangesAsync(ct);
            return payment.Id;
        }
        catch (DbUpdateException)
        {
            // A concurrent delivery of the same invoice created it; fulfil that one.
            db.Entry(payment).State = EntityState.Detached;
            return await db.Payments.AsNoTracking().Where(p => p.IdempotencyKey == key).Select(p => p.Id).FirstAsync(ct);
        }
    }

    /// <summary>
    /// The subscription ended (cancelled by the customer, or unpaid after Stripe's retries). The period already paid for
    /// is honoured: the move to Free is scheduled for its end, when the renewal job applies it (at its next tick when the
    /// period is already over).
    /// </summary>
    async Task SubscriptionDeletedAsync(StripeSubscription subscription, CancellationToken ct)
    {
        var plan = await db.OrganizationPlans.FirstOrDefaultAsync(p => p.ExternalSubscriptionId == subscription.Id, ct);
        if (plan is null)
        {
            return; // a subscription we replaced and cancelled ourselves, or one that never billed a plan here
        }
        var now = clock.GetUtcNow().UtcDateTime;
        plan.ScheduledPlanCode = Plan.Free;
        plan.ScheduledInterval = null;
        plan.CurrentPeriodEndUtc ??= now;
        plan.UpdatedUtc = now;
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Subscription {Subscription} ended; organization {Organization} moves to Free at {PeriodEnd:O}", subscription.Id, plan.OrganizationId, plan.CurrentPeriodEndUtc);
    }

    /// <summary>
    /// A refund made in Stripe's dashboard. <c>amount_refunded</c> is cumulative, so the part not yet reflected here is
    /// refunded, keyed by Stripe's newest refund (or the event when the charge does not list its refunds).
    /// </summary>
    async Task ChargeRefundedAsync(string eventId, StripeCharge charge, CancellationToken ct)
    {
        if (await RefundedPaymentAsync("charge.refunded", charge.Id, charge.PaymentIntent, charge.Invoice, ct) is not { } payment)
        {
            return;
        }
        var refundKey = charge.Refunds?.Data?.FirstOrDefault()?.Id ?? eventId;
        // Asked even when nothing is newly refunded: a redelivery then finishes the refund its first delivery recorded.
        var refund = await fulfilment.RefundToAsync(payment.Id, charge.AmountRefunded, refundKey, ct);
        if (refund.Conflict)
        {
            // Another refund of the charge was recorded at the same moment, so what is new here is not known: failing this
            // delivery makes Stripe redeliver it, and the redelivery works it out afresh.
            throw new InvalidOperationException($"charge.refunded {charge.Id} raced another refund of payment {payment.Id}; Stripe redelivers it");
        }
    }

    /// <summary>
    /// A chargeback took the disputed amount back from our balance: for the buyer it is a refund of that amount (its
    /// credits taken back, as for <c>charge.refunded</c>), keyed by the dispute so a redelivery changes nothing.
    /// </summary>
    async Task DisputeFundsWithdrawnAsync(StripeDispute dispute, CancellationToken ct)
    {
        if (await RefundedPaymentAsync("charge.dispute.funds_withdrawn", dispute.Charge ?? dispute.Id, dispute.PaymentIntent, null, ct) is not { } payment)
        {
            return;
        }
        var refund = await fulfilment.RefundAsync(payment.Id, dispute.Amount, $"dispute:{dispute.Id}", ct);
        if (refund.Conflict)
        {
            throw new InvalidOperationException($"Dispute {dispute.Id} raced another refund of payment {payment.Id}; Stripe redelivers it");
        }
    }

    /// <summary>
    /// A dispute won: Stripe returned the money, so the credits its withdrawal took go back, keyed by the dispute.
    /// Arriving before the withdrawal is recorded (its delivery still being retried), it fails, so Stripe redelivers it
    /// after: handled now it would return nothing, and the withdrawal would then take the credits for good. A payment
    /// refunded in full before the dispute is the exception: its withdrawal has nothing left to take and records nothing,
    /// so there is nothing to give back, and failing would only make Stripe redeliver the event until it gives up.
    /// </summary>
    async Task DisputeFundsReinstatedAsync(StripeDispute dispute, CancellationToken ct)
    {
        if (await RefundedPaymentAsync("charge.dispute.funds_reinstated", dispute.Charge ?? dispute.Id, dispute.PaymentIntent, null, ct) is not { } payment)
        {
            return;
        }
        if (!await fulfilment.ReinstateAsync(payment.Id, $"dispute:{dispute.Id}", ct))
        {
            if (payment.RefundedCents >= payment.AmountCents)
            {
                logger.LogWarning("Dispute {Dispute} of payment {PaymentId} was won, but the payment had been refunded in full before it: nothing to give back", dispute.Id, payment.Id);
                return;
            }
            throw new InvalidOperationException($"Dispute {dispute.Id} of payment {payment.Id} was reinstated before its withdrawal was recorded; Stripe redelivers it");
        }
    }

    /// <summary>
    /// The payment a refund or a dispute takes money back from. It is matched by the PaymentIntent or invoice its success
    /// recorded; a payment not fulfilled yet has neither, so it is found by our id in the PaymentIntent's metadata
    /// (packages, auto top-ups) or in the invoice's subscription metadata (plans). Such a payment fails the delivery:
    /// handled now, the refund would be ignored and the completion still being retried would grant the credits of money
    /// already returned; Stripe redelivers it after the completion. Null when the charge is not ours.
    /// </summary>
    async Task<Payment?> RefundedPaymentAsync(string type, string chargeId, string? paymentIntentId, string? invoiceId, CancellationToken ct)
    {
        string?[] references = [paymentIntentId, invoiceId];
        var known = references.OfType<string>().ToList();
        var payment = known.Count == 0 ? null : await db.Payments.AsNoTracking()
            .Where(p => p.Provider == PaymentProviderKind.Stripe && p.ExternalPaymentId != null && known.Contains(p.ExternalPaymentId))
            .FirstOrDefaultAsync(ct);
        if (payment is null)
        {
            Guid? ours = null;
            if (paymentIntentId is not null)
            {
                var intent = await stripe.GetPaymentIntentAsync(paymentIntentId, ct);
                ours = intent.PaymentId;
                invoiceId ??= intent.Invoice;
            }
            // A plan's renewal is recorded under its invoice, which a dispute names only through its PaymentIntent.
            payment = invoiceId is null || known.Contains(invoiceId) ? null : await db.Payments.AsNoTracking()
                .FirstOrDefaultAsync(p => p.Provider == PaymentProviderKind.Stripe && p.ExternalPaymentId == invoiceId, ct);
            if (payment is null)
            {
                if (ours is null && invoiceId is not null)
                {
                    ours = (await stripe.GetInvoiceAsync(invoiceId, ct))?.PaymentId;
                }
                payment = ours is { } id ? await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.Provider == PaymentProviderKind.Stripe, ct) : null;
                // A subscription's metadata names its first Checkout on every invoice: that payment is this charge's only
                // while it has no PaymentIntent or invoice of its own recorded, or this one. Another invoice's money is
                // not taken back from it.
                if (payment is { ExternalPaymentId: { } recorded } && recorded != paymentIntentId && recorded != invoiceId)
                {
                    payment = null;
                }
            }
        }
        if (payment is null)
        {
            logger.LogWarning("{Type} {Charge} matches no Stripe payment; ignored", type, chargeId);
            return null;
        }
        if (payment.Status is PaymentStatus.Pending or PaymentStatus.Failed)
        {
            throw new InvalidOperationException($"{type} {chargeId} takes back payment {payment.Id}, which is not fulfilled yet; Stripe redelivers it");
        }
        return payment;
    }

    async Task<Payment?> OurPaymentAsync(StripeCheckoutSession session, CancellationToken ct)
    {
        var payment = session.PaymentId is { } id
            ? await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.Provider == PaymentProviderKind.Stripe, ct)
            : null;
        if (payment is null)
        {
            // Another application on the same Stripe account, or a session created by hand: not ours to fulfil.
            logger.LogWarning("Checkout session {Session} names no Stripe payment of ours; ignored", session.Id);
        }
        return payment;
    }
}
