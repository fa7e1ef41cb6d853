using System.Globalization;
using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// Stripe Checkout: a one-time payment for a package, a subscription for a plan. The payment's id travels as
/// <c>client_reference_id</c> and <c>metadata[payment_id]</c>, so the webhook finds the payment it fulfils. A package's
/// Checkout also saves the card for off-session use, on the organization's one Stripe customer, for auto top-ups.
/// </summary>
sealed class StripePaymentProvider(StripeClient stripe, IOptions<StripeOptions> options, AppDbContext db) : IPaymentProvider
{
    public PaymentProviderKind Kind => PaymentProviderKind.Stripe;

    /// <summary>Stripe's test keys (<c>sk_test_…</c>, restricted <c>rk_test_…</c>) move no money: receipts say so.</summary>
    public bool TestMode => options.Value.SecretKey is { } key && (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal));

    public async Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct)
    {
        var customer = await CustomerAsync(payment.OrganizationId, ct);
        var session = await stripe.CreateCheckoutSessionAsync(CheckoutForm(payment, urls, customer?.CustomerId), $"checkout:{payment.Id}", ct);
        payment.ExternalCheckoutId = session.Id;
        return session.Url;
    }

    public Task EndSubscriptionAsync(string externalSubscriptionId, CancellationToken ct) => stripe.CancelSubscriptionAsync(externalSubscriptionId, ct);

    /// <summary>
    /// Refunds the PaymentIntent that paid: recorded as the payment's external id, or for a subscription's first
    /// payment (whose external id is its invoice) the invoice's. An invoice without one took no money (a 100% discount),
    /// so there is nothing to return.
    /// </summary>
    public async Task<ProviderRefund> RefundInFullAsync(Payment payment, CancellationToken ct)
    {
        var paid = payment.ExternalPaymentId ?? throw new InvalidOperationException($"Payment {payment.Id} names no Stripe payment to refund.");
        var paymentIntent = paid;
        if (paid.StartsWith("in_", StringComparison.Ordinal))
        {
            if (await stripe.GetInvoiceAsync(paid, ct) is not { } invoice)
            {
                // Stripe does not know the invoice the payment recorded: where its money went is the operator's to find out.
                return new ProviderRefund(ProviderRefundOutcome.Refused, "invoice_not_found");
            }
            paymentIntent = invoice.PaymentIntent;
        }
        if (paymentIntent is null)
        {
            return new ProviderRefund(ProviderRefundOutcome.NothingToRefund);
        }
        return await stripe.RefundPaymentIntentAsync(paymentIntent, payment.Id, $"refund:{payment.Id}:in-full", ct) is { } refusal
            ? new ProviderRefund(ProviderRefundOutcome.Refused, refusal.Code ?? refusal.Type ?? "refused")
            : ProviderRefund.Done;
    }

    public async Task<OffSessionCharge> ChargeSavedPaymentMethodAsync(Payment payment, CancellationToken ct)
    {
        if (await CustomerAsync(payment.OrganizationId, ct) is not { PaymentMethodId: { } paymentMethod } customer)
        {
            return new OffSessionCharge(OffSessionOutcome.Failed, null, null, "No card is saved for automatic payments.");
        }
        var id = payment.Id.ToString();
        var charge = await stripe.ChargeOffSessionAsync(
        [
            new("amount", payment.AmountCents.ToString(CultureInfo.InvariantCulture)),
            new("currency", payment.Currency),
            new("customer", customer.CustomerId),
            new("payment_method", paymentMethod),
            new("off_session", "true"),
            new("confirm", "true"),
            new("description", payment.Description),
            new("metadata[payment_id]", id),
            new("metadata[organization_id]", payment.OrganizationId.ToString()),
        ], payment.IdempotencyKey ?? $"payment:{id}", ct);
        var intent = charge.Intent;
        if (charge.Refusal is { } refusal)
        {
            return new OffSessionCharge(OffSessionOutcome.Failed, intent?.Id, customer.CardLast4, RefusalReason(refusal.Code, refusal.DeclineCode));
        }
        return intent!.Status switch
        {
            "succeeded" => new OffSessionCharge(OffSessionOutcome.Succeeded, intent.Id, customer.CardLast4, null),
            "processing" => new OffSessionCharge(OffSessionOutcome.Pending, intent.Id, customer.CardLast4, null),
            // Off-session there is nobody to complete 3-D Secure or choose another card.
            "requires_action" => new OffSessionCharge(OffSessionOutcome.Failed, intent.Id, customer.CardLast4, RefusalReason("authentication_required", null)),
            _ => new OffSessionCharge(OffSessionOutcome.Failed, intent.Id, customer.CardLast4, RefusalReason(null, null)),
        };
    }

    /// <summary>Why a saved card was not charged, in words for the buyer (Stripe's codes, never card details).</summary>
    public static string RefusalReason(string? code, string? declineCode) => code switch
    {
        "authentication_required" => "The bank asked for authentication (3-D Secure), which needs you present: pay once by checkout to confirm the card.",
        "card_declined" => $"The card was declined{(declineCode is null or "generic_decline" ? "" : $" ({declineCode.Replace('_', ' ')})")}.",
        "expired_card" => "The saved card has expired.",
        null => "The saved card could not be charged.",
        _ => $"The saved card could not be charged ({code.Replace('_', ' ')}).",
    };

    Task<PaymentCustomer?> CustomerAsync(Guid organizationId, CancellationToken ct) =>
        db.PaymentCustomers.AsNoTracking().FirstOrDefaultAsync(c => c.OrganizationId == organizationId, ct);

    static List<KeyValuePair<string, string>> CheckoutForm(Payment payment, CheckoutUrls urls, string? customer)
    {
        var id = payment.Id.ToString();
        var subscription = payment.Purpose is PaymentPurpose.Plan or PaymentPurpose.Renewal;
        var form = new List<KeyValuePair<string, string>>
        {
            new("mode", subscription ? "subscription" : "payment"),
            new("client_reference_id", id),
            new("metadata[payment_id]", id),
            new("metadata[organization_id]", payment.OrganizationId.ToString()),
            new("success_url", $"{urls.BaseUrl}{urls.SuccessPath}?payment={id}"),
            new("cancel_url", $"{urls.BaseUrl}{urls.CancelPath}"),
            new("line_items[0][quantity]", "1"),
            new("line_items[0][price_data][currency]", payment.Currency),
            new("line_items[0][price_data][unit_amount]", payment.AmountCents.ToString(CultureInfo.InvariantCulture)),
            new("line_items[0][price_data][product_data][name]", payment.Description),
        };
        if (customer is not null)
        {
            form.Add(new("customer", customer)); // one organization, one Stripe customer: its saved card and its invoices together
        }
        else if (!subscription)
        {
            form.Add(new("customer_creation", "always")); // a subscription always gets a customer; a one-time payment only when asked
        }
        if (subscription)
        {
            form.Add(new("line_items[0][price_data][recurring][interval]", payment.Interval == BillingInterval.Yearly ? "year" : "month"));
            form.Add(new("subscription_data[metadata][payment_id]", id));
            form.Add(new("subscription_data[metadata][organization_id]", payment.OrganizationId.ToString()));
        }
        else
        {
            form.Add(new("payment_intent_data[metadata][payment_id]", id));
            // Checkout then saves the card on the customer, with the buyer's consent, for automatic top-ups.
            form.Add(new("payment_intent_data[setup_future_usage]", "off_session"));
        }
        return form;
    }
}
