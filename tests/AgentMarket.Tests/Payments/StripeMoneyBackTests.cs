using System.Net;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// Money Stripe takes back from a payment — a refund that overtakes the payment's completion, a lost dispute — takes its
/// credits back too, once.
/// </summary>
public class StripeMoneyBackTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task ARefundArrivingBeforeThePaymentsCompletion_FailsUntilItIsFulfilled_ThenTakesItsCreditsBack()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var checkout = await user.StartCheckoutAsync(new { package_uuid = await user.PackageIdAsync("Starter") });
        var payment = checkout.GetProperty("checkout_uuid").GetGuid();
        var paymentIntent = StripeWebhooks.NewId("pi");
        app.Stripe.PaymentIntentPays(paymentIntent, payment);
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        // Stripe's completion webhook is still being retried when the buyer gets the money back.
        var refunded = StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(paymentIntent, 1_500, 1_500, StripeWebhooks.NewId("re")));
        var early = await StripeWebhooks.PostAsync(app, refunded, StripeWebhooks.Signature(refunded, app.Clock.GetUtcNow()));
        Assert.False(early.IsSuccessStatusCode, "a refund of a payment not fulfilled yet must be redelivered");
        Assert.Equal("pending", (await user.PaymentAsync(payment)).GetProperty("status").GetString());

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: paymentIntent)));
        Assert.Equal(before + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        // Stripe's redelivery of the refund now finds the payment fulfilled.
        Assert.False((await StripeWebhooks.DeliverAsync(app, refunded)).GetProperty("duplicate").GetBoolean());
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("refunded", (await user.PaymentAsync(payment)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ADisputesFundsWithdrawn_RefundTheDisputedAmount_Once()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("pro");
        var purchase = await user.BuyThroughStripeAsync("Standard"); // $50.00 for 5,000 credits
        var paid = (await user.BalanceAsync()).GetProperty("paid").GetInt64();
        var payment = await user.PaymentAsync(purchase.PaymentId);
        var amount = payment.GetProperty("amount_cents").GetInt64();
        var credits = payment.GetProperty("credits").GetInt64();

        var dispute = StripeWebhooks.Dispute(purchase.PaymentIntentId, amount * 2 / 5);
        var withdrawn = StripeWebhooks.Event("charge.dispute.funds_withdrawn", dispute);
        await StripeWebhooks.DeliverAsync(app, withdrawn);
        var disputed = await user.PaymentAsync(purchase.PaymentId);
        Assert.Equal(("partially_refunded", amount * 2 / 5), (disputed.GetProperty("status").GetString(), disputed.GetProperty("refunded_cents").GetInt64()));
        Assert.Equal(paid - credits * 2 / 5, (await user.BalanceAsync()).GetProperty("paid").GetInt64());

        // Redelivered, and the same dispute in another event: nothing more.
        await StripeWebhooks.DeliverAsync(app, withdrawn);
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.dispute.funds_withdrawn", dispute));
        Assert.Equal(amount * 2 / 5, (await user.PaymentAsync(purchase.PaymentId)).GetProperty("refunded_cents").GetInt64());
        Assert.Equal(paid - credits * 2 / 5, (await user.BalanceAsync()).GetProperty("paid").GetInt64());
    }

    [Fact]
    public async Task ADisputeWon_ReturnsTheCreditsItsWithdrawalTook_Once()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("pro");
        var purchase = await user.BuyThroughStripeAsync("Standard");
        var before = await user.BalanceAsync();
        var amount = (await user.PaymentAsync(purchase.PaymentId)).GetProperty("amount_cents").GetInt64();
        var dispute = StripeWebhooks.Dispute(purchase.PaymentIntentId, amount);
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.dispute.funds_withdrawn", dispute));
        Assert.True((await user.BalanceAsync()).GetProperty("paid").GetInt64() < before.GetProperty("paid").GetInt64());

        var reinstated = StripeWebhooks.Event("charge.dispute.funds_reinstated", dispute);
        await StripeWebhooks.DeliverAsync(app, reinstated);
        var after = await user.BalanceAsync();
        Assert.Equal((before.GetProperty("balance").GetInt64(), before.GetProperty("paid").GetInt64(), before.GetProperty("debt").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("paid").GetInt64(), after.GetProperty("debt").GetInt64()));

        // Redelivered, and the same dispute in another event: nothing more.
        await StripeWebhooks.DeliverAsync(app, reinstated);
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.dispute.funds_reinstated", dispute));
        Assert.Equal(after.GetProperty("balance").GetInt64(), (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task ADisputeWon_OfAPaymentRefundedInFullBeforeIt_IsAccepted_AndGivesNothingBack()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("pro");
        var purchase = await user.BuyThroughStripeAsync("Standard");
        var amount = (await user.PaymentAsync(purchase.PaymentId)).GetProperty("amount_cents").GetInt64();
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, amount, amount, StripeWebhooks.NewId("re"))));
        var refunded = await user.BalanceAsync();

        // The buyer disputes the charge anyway; the withdrawal finds nothing left to take, and the dispute is then won.
        var dispute = StripeWebhooks.Dispute(purchase.PaymentIntentId, amount);
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.dispute.funds_withdrawn", dispute));
        var reinstated = StripeWebhooks.Event("charge.dispute.funds_reinstated", dispute);
        var answer = await StripeWebhooks.PostAsync(app, reinstated, StripeWebhooks.Signature(reinstated, app.Clock.GetUtcNow()));

        Assert.True(answer.IsSuccessStatusCode, $"a won dispute of a payment refunded in full must not be redelivered forever ({answer.StatusCode})");
        var after = await user.BalanceAsync();
        Assert.Equal((refunded.GetProperty("balance").GetInt64(), refunded.GetProperty("paid").GetInt64(), refunded.GetProperty("debt").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("paid").GetInt64(), after.GetProperty("debt").GetInt64()));
        Assert.Equal("refunded", (await user.PaymentAsync(purchase.PaymentId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ADisputeOfAPlansRenewal_TakesBackTheRenewal_NotTheFirstCheckout()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("plus");
        var periodEnd = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("current_period_end").GetDateTime();
        var renewalInvoice = StripeWebhooks.NewId("in");
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid",
            StripeWebhooks.Invoice(renewalInvoice, subscription.SubscriptionId, "subscription_cycle", 1990, periodEnd, periodEnd.AddMonths(1))));
        var payments = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"))).GetProperty("items").EnumerateArray().ToList();
        var renewal = payments.Single(p => p.GetProperty("purpose").GetString() == "renewal").GetProperty("uuid").GetGuid();
        // Stripe names the subscription's first Checkout in every invoice's metadata; the dispute names only its PaymentIntent.
        var renewalPaymentIntent = StripeWebhooks.NewId("pi");
        app.Stripe.InvoicePays(renewalInvoice, renewalPaymentIntent, subscription.PaymentId);

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.dispute.funds_withdrawn", StripeWebhooks.Dispute(renewalPaymentIntent, 1990)));

        Assert.Equal("refunded", (await user.PaymentAsync(renewal)).GetProperty("status").GetString());
        Assert.Equal("succeeded", (await user.PaymentAsync(subscription.PaymentId)).GetProperty("status").GetString());
    }
}
