using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>With Stripe, a plan checkout paid too late to apply is refunded through Stripe and its new subscription cancelled.</summary>
public class StripeLatePlanCheckoutTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task AnOldPlusCheckoutPaidAfterProYearly_IsRefundedInStripe_AndCancelsItsOwnSubscriptionNotPros()
    {
        var user = await app.SignUpAsync();
        var old = (await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus", interval = "monthly" }), HttpStatusCode.Created))
            .GetProperty("checkout_uuid").GetGuid();
        var pro = await user.SubscribeThroughStripeAsync("pro", "yearly");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        // The first tab is paid: Stripe created a Plus subscription, whose first invoice a PaymentIntent paid.
        var (subscription, invoice, paymentIntent) = (StripeWebhooks.NewId("sub"), StripeWebhooks.NewId("in"), StripeWebhooks.NewId("pi"));
        app.Stripe.InvoicePays(invoice, paymentIntent, old);
        var completed = StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(old, "subscription", subscription: subscription, invoice: invoice));
        await StripeWebhooks.DeliverAsync(app, completed);
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(old, "subscription", subscription: subscription, invoice: invoice)));

        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal(("pro", "yearly"), (plan.GetProperty("plan").GetString(), plan.GetProperty("interval").GetString()));
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.DoesNotContain(app.Stripe.Requests, r => r.Method == "DELETE" && r.Path == $"/v1/subscriptions/{pro.SubscriptionId}");
        Assert.Contains(app.Stripe.Requests, r => r.Method == "DELETE" && r.Path == $"/v1/subscriptions/{subscription}");
        var refunds = app.Stripe.Refunds().Where(r => r.Form["payment_intent"] == paymentIntent).ToList();
        Assert.NotEmpty(refunds);
        Assert.Single(refunds.Select(r => r.IdempotencyKey).Distinct());
        Assert.Equal("refunded", (await user.PaymentAsync(old)).GetProperty("status").GetString());

        // Stripe then reports its refund of the charge: nothing more changes.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(invoice, 1_990, 1_990, StripeWebhooks.NewId("re"))));
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("pro", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
    }
}
