using System.Net;
using System.Net.Http.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// Returning a declined plan payment's money through Stripe ends, one way or another (ADR-148): a charge already refunded
/// or an invoice that took no money is done; a refusal for good is told to the operator and the buyer, not retried every
/// tick; an outage is retried until Stripe answers.
/// </summary>
public class StripeDeclinedRefundTests(StripeApp app) : IClassFixture<StripeApp>
{
    /// <summary>An old Plus checkout paid after Pro yearly, its first invoice paid by <paramref name="paymentIntent"/>; the completion's answer.</summary>
    async Task<(TestUser User, Guid Payment, HttpResponseMessage Completion)> DeclinedPlusAsync(string? paymentIntent, bool invoiceKnownToStripe = true)
    {
        var user = await app.SignUpAsync();
        var old = (await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus", interval = "monthly" }), HttpStatusCode.Created))
            .GetProperty("checkout_uuid").GetGuid();
        await user.SubscribeThroughStripeAsync("pro", "yearly");
        var invoice = StripeWebhooks.NewId("in");
        if (invoiceKnownToStripe)
        {
            app.Stripe.InvoicePays(invoice, paymentIntent, old);
        }
        var completed = StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(old, "subscription", subscription: StripeWebhooks.NewId("sub"), invoice: invoice));
        var response = await StripeWebhooks.PostAsync(app, completed, StripeWebhooks.Signature(completed, app.Clock.GetUtcNow()));
        Assert.Equal("refunded", (await user.PaymentAsync(old)).GetProperty("status").GetString());
        return (user, old, response);
    }

    /// <summary>Runs the refund sweep once its minute has passed for every refund recorded so far.</summary>
    async Task SweepAsync()
    {
        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);
    }

    Task<bool> AppliedAsync(Guid payment) => app.InScopeAsync(null, async services =>
        await services.GetRequiredService<AppDbContext>().PaymentRefunds.AsNoTracking().Where(r => r.PaymentId == payment).AllAsync(r => r.AppliedUtc != null));

    int StripeCallsAbout(string path) => app.Stripe.Requests.Count(r => r.Path.StartsWith(path, StringComparison.Ordinal));

    [Fact]
    public async Task AnInvoiceThatTookNoMoney_HasNothingToRefund_AndIsDone()
    {
        var (_, payment, completion) = await DeclinedPlusAsync(paymentIntent: null);
        await Http.AssertStatusAsync(completion, HttpStatusCode.OK);
        Assert.True(await AppliedAsync(payment));
        var invoiceReads = StripeCallsAbout("/v1/invoices/");

        await SweepAsync();
        Assert.Equal(invoiceReads, StripeCallsAbout("/v1/invoices/"));
        Assert.DoesNotContain(app.Stripe.Refunds(), r => r.Form["metadata[payment_id]"] == payment.ToString());
    }

    [Fact]
    public async Task AChargeStripeAlreadyRefunded_CountsAsRefunded()
    {
        app.Stripe.RefundFailsWith = (400, "invalid_request_error", "charge_already_refunded");
        try
        {
            var (user, payment, completion) = await DeclinedPlusAsync(StripeWebhooks.NewId("pi"));
            await Http.AssertStatusAsync(completion, HttpStatusCode.OK);
            Assert.True(await AppliedAsync(payment));
            await SweepAsync();
            Assert.Single(app.Stripe.Refunds(), r => r.Form["metadata[payment_id]"] == payment.ToString());
            Assert.DoesNotContain("refused", (await user.PaymentAsync(payment)).GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            app.Stripe.RefundFailsWith = null;
        }
    }

    [Fact]
    public async Task ARefundStripeRefusesForGood_IsToldToTheOperatorAndTheBuyer_AndNotRetried()
    {
        app.Stripe.RefundFailsWith = (400, "invalid_request_error", "charge_disputed");
        try
        {
            var (user, payment, completion) = await DeclinedPlusAsync(StripeWebhooks.NewId("pi"));
            await Http.AssertStatusAsync(completion, HttpStatusCode.OK);
            Assert.True(await AppliedAsync(payment));
            await SweepAsync();
            await SweepAsync();
            Assert.Single(app.Stripe.Refunds(), r => r.Form["metadata[payment_id]"] == payment.ToString());

            Assert.Contains("charge_disputed", (await user.PaymentAsync(payment)).GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
            var operatorClient = await app.OperatorAsync();
            var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=payment.refund_failed&organization={user.OrganizationId}"));
            Assert.Single(audit.GetProperty("items").EnumerateArray());
        }
        finally
        {
            app.Stripe.RefundFailsWith = null;
        }
    }

    [Fact]
    public async Task ARefundDuringAStripeOutage_IsRetriedUntilStripeAnswers()
    {
        app.Stripe.RefundFailsWith = (500, "api_error", null);
        Guid payment;
        try
        {
            (_, payment, _) = await DeclinedPlusAsync(StripeWebhooks.NewId("pi"));
            await SweepAsync();
            Assert.False(await AppliedAsync(payment));
        }
        finally
        {
            app.Stripe.RefundFailsWith = null;
        }
        await SweepAsync();
        Assert.True(await AppliedAsync(payment));
        Assert.Equal(3, app.Stripe.Refunds().Count(r => r.Form["metadata[payment_id]"] == payment.ToString()));
    }

    [Fact]
    public async Task AnInvoiceStripeDoesNotKnow_IsToldToTheOperatorAndTheBuyer_AndNotRetried()
    {
        var (user, payment, completion) = await DeclinedPlusAsync(StripeWebhooks.NewId("pi"), invoiceKnownToStripe: false);
        await Http.AssertStatusAsync(completion, HttpStatusCode.OK);
        Assert.True(await AppliedAsync(payment));
        var invoiceReads = StripeCallsAbout("/v1/invoices/");

        await SweepAsync();
        Assert.Equal(invoiceReads, StripeCallsAbout("/v1/invoices/"));
        Assert.Contains("invoice_not_found", (await user.PaymentAsync(payment)).GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(app.Stripe.Refunds(), r => r.Form["metadata[payment_id]"] == payment.ToString());
    }
}
