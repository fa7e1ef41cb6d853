using System.Globalization;
using AgentMarket.Credits.Plans;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// Stripe Checkout: a one-time payment for a package, a subscription for a plan. The payment's id travels as
/// <c>client_reference_id</c> and <c>metadata[payment_id]</c>, so the webhook finds the payment it fulfils.
/// </summary>
sealed class StripePaymentProvider(StripeClient stripe, IOptions<StripeOptions> options) : IPaymentProvider
{
    public PaymentProviderKind Kind => PaymentProviderKind.Stripe;

    /// <summary>Stripe's test keys (<c>sk_test_…</c>, restricted <c>rk_test_…</c>) move no money: receipts say so.</summary>
    public bool TestMode => options.Value.SecretKey is { } key && (key.StartsWith("sk_test_", StringComparison.Ordinal) || key.StartsWith("rk_test_", StringComparison.Ordinal));

    public async Task<string> CreateCheckoutAsync(Payment payment, CheckoutUrls urls, CancellationToken ct)
    {
        var session = await stripe.CreateCheckoutSessionAsync(CheckoutForm(payment, urls), $"checkout:{payment.Id}", ct);
        payment.ExternalCheckoutId = session.Id;
        return session.Url;
    }

    static List<KeyValuePair<string, string>> CheckoutForm(Payment payment, CheckoutUrls urls)
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
        if (subscription)
        {
            form.Add(new("line_items[0][price_data][recurring][interval]", payment.Interval == BillingInterval.Yearly ? "year" : "month"));
            form.Add(new("subscription_data[metadata][payment_id]", id));
            form.Add(new("subscription_data[metadata][organization_id]", payment.OrganizationId.ToString()));
        }
        else
        {
            form.Add(new("payment_intent_data[metadata][payment_id]", id));
        }
        return form;
    }
}
