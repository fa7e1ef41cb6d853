using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

public class StripeCheckoutTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task PackageCheckout_CreatesAStripeSession_AndTheSignedWebhook_GrantsTheCreditsExactlyOnce()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        var checkout = await user.StartCheckoutAsync(new { package_uuid = await user.PackageIdAsync("Starter") }, "/api/stripe/checkout/");
        var payment = checkout.GetProperty("checkout_uuid").GetGuid();
        Assert.StartsWith("https://checkout.stripe.com/c/pay/cs_test_", checkout.GetProperty("checkout_url").GetString(), StringComparison.Ordinal);
        Assert.True(checkout.GetProperty("test_mode").GetBoolean());

        var session = app.Stripe.CheckoutSessions().Single(s => s.Form["client_reference_id"] == payment.ToString());
        Assert.Equal("payment", session.Form["mode"]);
        Assert.Equal(payment.ToString(), session.Form["metadata[payment_id]"]);
        Assert.Equal("usd", session.Form["line_items[0][price_data][currency]"]);
        Assert.Equal("1500", session.Form["line_items[0][price_data][unit_amount]"]);
        Assert.Contains("Starter", session.Form["line_items[0][price_data][product_data][name]"], StringComparison.Ordinal);
        Assert.Equal("1", session.Form["line_items[0][quantity]"]);
        Assert.EndsWith($"/credits/success?payment={payment}", session.Form["success_url"], StringComparison.Ordinal);
        Assert.EndsWith("/credits", session.Form["cancel_url"], StringComparison.Ordinal);
        Assert.Equal($"Bearer {StripeApp.SecretKey}", session.Authorization);
        Assert.Equal("2025-02-24.acacia", session.StripeVersion);
        Assert.Equal($"checkout:{payment}", session.IdempotencyKey);

        // Nothing is granted until Stripe says the session was paid.
        Assert.Equal("pending", (await user.PaymentAsync(payment)).GetProperty("status").GetString());
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        var completed = StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: "pi_test_starter"));
        Assert.False((await StripeWebhooks.DeliverAsync(app, completed)).GetProperty("duplicate").GetBoolean());
        Assert.Equal(before + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var paid = await user.PaymentAsync(payment);
        Assert.Equal("succeeded", paid.GetProperty("status").GetString());
        Assert.Equal("stripe", paid.GetProperty("provider").GetString());
        var receipt = await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/receipts/{paid.GetProperty("receipt").GetGuid()}"));
        Assert.Equal(1_500, receipt.GetProperty("total_cents").GetInt64());
        Assert.True(receipt.GetProperty("test_mode").GetBoolean());

        // Stripe redelivers the same event, then sends another event about the same session: nothing more is granted.
        Assert.True((await StripeWebhooks.DeliverAsync(app, completed)).GetProperty("duplicate").GetBoolean());
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.async_payment_succeeded",
            StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: "pi_test_starter")));
        Assert.Equal(before + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var purchases = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=purchase"));
        Assert.Equal(1, purchases.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task PlanCheckout_IsAMonthlyOrYearlySubscription_AndActivatesThePlanWithItsCredits()
    {
        var user = await app.SignUpAsync();
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        var checkout = await user.StartCheckoutAsync(new { plan = "pro", interval = "yearly" });
        var payment = checkout.GetProperty("checkout_uuid").GetGuid();
        var session = app.Stripe.CheckoutSessions().Single(s => s.Form["client_reference_id"] == payment.ToString());
        Assert.Equal("subscription", session.Form["mode"]);
        Assert.Equal("year", session.Form["line_items[0][price_data][recurring][interval]"]);
        Assert.Equal("95880", session.Form["line_items[0][price_data][unit_amount]"]); // 12 × $79.90
        Assert.Equal(payment.ToString(), session.Form["subscription_data[metadata][payment_id]"]);

        var monthly = await user.StartCheckoutAsync(new { plan = "plus", interval = "monthly" });
        Assert.Equal("month", app.Stripe.CheckoutSessions().Single(s => s.Form["client_reference_id"] == monthly.GetProperty("checkout_uuid").GetGuid().ToString())
            .Form["line_items[0][price_data][recurring][interval]"]);

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(payment, "subscription", subscription: StripeWebhooks.NewId("sub"), invoice: StripeWebhooks.NewId("in"))));
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal(("pro", "yearly"), (plan.GetProperty("plan").GetString(), plan.GetProperty("interval").GetString()));
        Assert.Equal(before + 10_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task RepeatedIdempotencyKey_ReturnsTheSameStripeSession()
    {
        var user = await app.SignUpAsync();
        var key = Guid.NewGuid().ToString();
        async Task<System.Text.Json.JsonElement> StartAsync()
        {
            var request = Http.Request(HttpMethod.Post, "/api/credits/purchase/", json: new { plan = "plus" });
            request.Headers.Add("Idempotency-Key", key);
            return await Http.ReadJsonAsync(await user.Client.SendAsync(request), HttpStatusCode.Created);
        }
        var first = await StartAsync();
        var second = await StartAsync();
        Assert.Equal(first.GetProperty("checkout_uuid").GetGuid(), second.GetProperty("checkout_uuid").GetGuid());
        Assert.Equal(first.GetProperty("checkout_url").GetString(), second.GetProperty("checkout_url").GetString());
    }

    [Fact]
    public async Task InvoicePaid_RenewsTheSubscription_ButNotForTheFirstInvoice_AndOncePerInvoice()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("plus");
        var afterCheckout = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        var periodEnd = plan.GetProperty("current_period_end").GetDateTime();

        // Stripe also reports the first invoice as paid; Checkout already fulfilled it.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid",
            StripeWebhooks.Invoice(subscription.FirstInvoiceId, subscription.SubscriptionId, "subscription_create", 1990, periodEnd.AddMonths(-1), periodEnd)));
        Assert.Equal(afterCheckout, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        var renewal = StripeWebhooks.Invoice(StripeWebhooks.NewId("in"), subscription.SubscriptionId, "subscription_cycle", 1990, periodEnd, periodEnd.AddMonths(1));
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid", renewal));
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid", renewal)); // the same invoice in a new event

        Assert.Equal(afterCheckout + 2_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var renewed = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal(periodEnd.AddMonths(1), renewed.GetProperty("current_period_end").GetDateTime(), TimeSpan.FromSeconds(1));
        var payments = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"));
        var renewals = payments.GetProperty("items").EnumerateArray().Where(p => p.GetProperty("purpose").GetString() == "renewal").ToList();
        var only = Assert.Single(renewals);
        Assert.Equal(("succeeded", 1990L), (only.GetProperty("status").GetString(), only.GetProperty("amount_cents").GetInt64()));
        Assert.Equal(2, (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/receipts/"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task InvoicePaid_ForASubscriptionThatBillsNoPlan_ChangesNothing()
    {
        var user = await app.SignUpAsync();
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        var now = DateTime.UtcNow;
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid",
            StripeWebhooks.Invoice(StripeWebhooks.NewId("in"), StripeWebhooks.NewId("sub"), "subscription_cycle", 1990, now, now.AddMonths(1))));
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Upgrade_ToAnotherPlan_CancelsThePreviousSubscription_WhoseDeletionThenChangesNothing()
    {
        var user = await app.SignUpAsync();
        var plus = await user.SubscribeThroughStripeAsync("plus");
        await user.SubscribeThroughStripeAsync("pro");

        Assert.Contains(app.Stripe.Requests, r => r.Method == "DELETE" && r.Path == $"/v1/subscriptions/{plus.SubscriptionId}");
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("customer.subscription.deleted", StripeWebhooks.Subscription(plus.SubscriptionId)));
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal("pro", plan.GetProperty("plan").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, plan.GetProperty("scheduled_plan").ValueKind);
    }

    [Fact]
    public async Task TheOperatorsRefundApi_LeavesStripePaymentsToStripe_WhereTheMoneyIsReturned()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var purchase = await user.BuyThroughStripeAsync("Starter");
        var operatorClient = await app.OperatorAsync();
        var refused = await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{purchase.PaymentId}/refund", new { }), HttpStatusCode.Conflict, "refund_in_stripe");
        Assert.Contains("Stripe's dashboard", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("succeeded", (await user.PaymentAsync(purchase.PaymentId)).GetProperty("status").GetString());
        Assert.Equal(350 + 2_000 + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task StripeRefund_ClawsBackTheUnspentCredits_AndTheSpentPartBecomesDebt()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var purchase = await user.BuyThroughStripeAsync("Starter");
        Assert.Equal(350 + 2_000 + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        // Granted credits are spent first: 2,350 granted, then 650 of the 1,500 paid.
        await user.SpendAsync(3_000);
        Assert.Equal(850, (await user.BalanceAsync()).GetProperty("paid").GetInt64());

        var refunded = StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 1_500, StripeWebhooks.NewId("re")));
        await StripeWebhooks.DeliverAsync(app, refunded);
        var balance = await user.BalanceAsync();
        Assert.Equal((0L, 0L, 650L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("paid").GetInt64(), balance.GetProperty("debt").GetInt64()));
        var payment = await user.PaymentAsync(purchase.PaymentId);
        Assert.Equal("refunded", payment.GetProperty("status").GetString());
        Assert.Equal("refunded", (await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/receipts/{payment.GetProperty("receipt").GetGuid()}"))).GetProperty("status").GetString());

        // The same refund reported again, in another event: nothing more.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 1_500, null)));
        Assert.Equal(650, (await user.BalanceAsync()).GetProperty("debt").GetInt64());
        var refunds = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=refund"));
        Assert.Equal(1, refunds.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task TwoRefundEventsArrivingTogether_RefundWhatStripeRefunded_NotTheirSum()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        for (var round = 0; round < 3; round++)
        {
            var purchase = await user.BuyThroughStripeAsync("Starter"); // $15.00 for 1,500 credits
            var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
            // Two partial refunds in Stripe's dashboard: $1 then $2 more; each event carries the running total.
            string[] events =
            [
                StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 100, StripeWebhooks.NewId("re"))),
                StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 300, StripeWebhooks.NewId("re"))),
            ];
            var first = await Task.WhenAll(events.Select(e => Task.Run(() => StripeWebhooks.PostAsync(app, e, StripeWebhooks.Signature(e, app.Clock.GetUtcNow())))));
            // A delivery that lost the race fails, and Stripe delivers it again.
            for (var i = 0; i < events.Length; i++)
            {
                if (first[i].StatusCode != HttpStatusCode.OK)
                {
                    await StripeWebhooks.DeliverAsync(app, events[i]);
                }
            }

            Assert.Equal(300, (await user.PaymentAsync(purchase.PaymentId)).GetProperty("refunded_cents").GetInt64());
            Assert.Equal(before - 300, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        }
    }

    [Fact]
    public async Task AStripeRefundInterruptedBeforeItsCreditsWereTakenBack_IsFinishedByTheRedelivery_Once()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var purchase = await user.BuyThroughStripeAsync("Starter");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        var refundId = StripeWebhooks.NewId("re");
        var refunded = StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 500, refundId));

        await using (await RefundLedgerOutage.StartAsync(app, purchase.PaymentId))
        {
            var failed = await StripeWebhooks.PostAsync(app, refunded, StripeWebhooks.Signature(refunded, app.Clock.GetUtcNow()));
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }
        // The refund is recorded with the payment; its credits wait for Stripe's redelivery (or the credit jobs).
        Assert.Equal("partially_refunded", (await user.PaymentAsync(purchase.PaymentId)).GetProperty("status").GetString());
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        // Stripe redelivers the event, which finds nothing new to refund and finishes the recorded refund.
        await StripeWebhooks.DeliverAsync(app, refunded);
        Assert.Equal(before - 500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        // The same refund in another event changes nothing more.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 1_500, 500, refundId)));
        Assert.Equal(before - 500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var refunds = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=refund"));
        Assert.Equal(1, refunds.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task RefundingAPlanPaymentInFull_EndsItsStripeSubscription_SoItBillsNoMore()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("plus");
        bool Cancelled() => app.Stripe.Requests.Any(r => r.Method == "DELETE" && r.Path == $"/v1/subscriptions/{subscription.SubscriptionId}");

        // Part of it: the plan and its subscription go on.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(subscription.FirstInvoiceId, 1_990, 990, StripeWebhooks.NewId("re"))));
        Assert.Equal("plus", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        Assert.False(Cancelled());

        // The rest: Free at once, and Stripe is told to stop billing.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(subscription.FirstInvoiceId, 1_990, 1_990, StripeWebhooks.NewId("re"))));
        Assert.True(Cancelled());
        // Stripe then reports the subscription deleted, which changes nothing more.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("customer.subscription.deleted", StripeWebhooks.Subscription(subscription.SubscriptionId)));
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal(("free", System.Text.Json.JsonValueKind.Null), (plan.GetProperty("plan").GetString(), plan.GetProperty("scheduled_plan").ValueKind));
    }

    [Fact]
    public async Task PartialStripeRefunds_AreCumulative_AndClawBackInProportion()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("pro");
        var purchase = await user.BuyThroughStripeAsync("Standard");
        Assert.Equal(5_000, (await user.BalanceAsync()).GetProperty("paid").GetInt64());

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 5_000, 1_000, StripeWebhooks.NewId("re"))));
        Assert.Equal(4_000, (await user.BalanceAsync()).GetProperty("paid").GetInt64());
        Assert.Equal("partially_refunded", (await user.PaymentAsync(purchase.PaymentId)).GetProperty("status").GetString());

        // amount_refunded is the charge's running total: 5,000 now means 4,000 more.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("charge.refunded", StripeWebhooks.Charge(purchase.PaymentIntentId, 5_000, 5_000, StripeWebhooks.NewId("re"))));
        Assert.Equal(0, (await user.BalanceAsync()).GetProperty("paid").GetInt64());
        Assert.Equal("refunded", (await user.PaymentAsync(purchase.PaymentId)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ExpiredCheckout_MarksThePaymentFailed_AndGrantsNothing()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        var checkout = await user.StartCheckoutAsync(new { package_uuid = await user.PackageIdAsync("Power") });
        var payment = checkout.GetProperty("checkout_uuid").GetGuid();

        // An unpaid completion (a delayed bank debit) grants nothing yet; expiry fails the payment.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(payment, "payment", paymentStatus: "unpaid")));
        Assert.Equal("pending", (await user.PaymentAsync(payment)).GetProperty("status").GetString());
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.expired", StripeWebhooks.CheckoutSession(payment, "payment", paymentStatus: "unpaid")));
        Assert.Equal("failed", (await user.PaymentAsync(payment)).GetProperty("status").GetString());
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task SandboxCheckoutEndpoints_AnswerNotFound_WhenStripeIsTheProvider()
    {
        var user = await app.SignUpAsync();
        var checkout = await user.StartCheckoutAsync(new { plan = "plus" });
        var response = await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{checkout.GetProperty("checkout_uuid").GetGuid()}/complete/", new { card_number = "4242424242424242" });
        await Http.AssertProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        Assert.Equal("free", (await user.BalanceAsync()).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task StripeOutage_Answers502WithACode_AndChangesNothing()
    {
        var user = await app.SignUpAsync();
        app.Stripe.FailWith = 500;
        try
        {
            var response = await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus" });
            await Http.AssertProblemAsync(response, HttpStatusCode.BadGateway, "payment_provider_unavailable");
        }
        finally
        {
            app.Stripe.FailWith = null;
        }
        Assert.Equal("free", (await user.BalanceAsync()).GetProperty("plan").GetString());
    }
}
