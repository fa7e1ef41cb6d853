using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>What a buyer does when Stripe is the payment provider: start a checkout, then Stripe reports the payment.</summary>
public static class PaymentIntents
{
    public sealed record StripeSubscription(Guid PaymentId, string SubscriptionId, string FirstInvoiceId);

    public sealed record StripePurchase(Guid PaymentId, string PaymentIntentId);

    public static async Task<JsonElement> StartCheckoutAsync(this TestUser user, object purchase, string path = "/api/credits/purchase/") =>
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync(path, purchase), HttpStatusCode.Created);

    /// <summary>Checks out a plan and lets Stripe report the paid session with its new subscription and first invoice.</summary>
    public static async Task<StripeSubscription> SubscribeThroughStripeAsync(this TestUser user, string plan, string interval = "monthly")
    {
        var checkout = await user.StartCheckoutAsync(new { plan, interval });
        var payment = checkout.GetProperty("checkout_uuid").GetGuid();
        var subscription = new StripeSubscription(payment, StripeWebhooks.NewId("sub"), StripeWebhooks.NewId("in"));
        await StripeWebhooks.DeliverAsync(user.App, StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(payment, "subscription", subscription: subscription.SubscriptionId, invoice: subscription.FirstInvoiceId)));
        return subscription;
    }

    /// <summary>
    /// Checks out a package and lets Stripe report it paid; with <paramref name="stripe"/>, the Checkout saved
    /// <paramref name="paymentMethod"/> (one of <see cref="FakeStripe"/>'s test cards) for off-session payments.
    /// </summary>
    public static async Task<StripePurchase> BuyThroughStripeAsync(this TestUser user, string package, FakeStripe? stripe = null, string paymentMethod = FakeStripe.SucceedingCard)
    {
        var checkout = await user.StartCheckoutAsync(new { package_uuid = await user.PackageIdAsync(package) });
        var purchase = new StripePurchase(checkout.GetProperty("checkout_uuid").GetGuid(), StripeWebhooks.NewId("pi"));
        stripe?.CheckoutPaysWith(purchase.PaymentIntentId, paymentMethod);
        await StripeWebhooks.DeliverAsync(user.App, StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(purchase.PaymentId, "payment", paymentIntent: purchase.PaymentIntentId)));
        return purchase;
    }

    public static async Task<JsonElement> PaymentAsync(this TestUser user, Guid payment) =>
        await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/payments/{payment}"));

    /// <summary>
    /// Spends credits as a settled run would (reserve, then settle), through the ledger: the run gateway that will do this
    /// over HTTP is not built yet.
    /// </summary>
    public static Task SpendAsync(this TestUser user, long credits) => user.App.InScopeAsync(user.OrganizationId, async services =>
    {
        var ledger = services.GetRequiredService<CreditLedger>();
        var run = Guid.NewGuid();
        var reserve = await ledger.ReserveAsync($"test-run:{run}:reserve", user.OrganizationId, credits, DateTime.UtcNow.AddMinutes(10), "run", run.ToString(), CancellationToken.None);
        Assert.True(reserve.Succeeded, $"reserve: {reserve.Status}");
        var settle = await ledger.SettleAsync($"test-run:{run}:settle", user.OrganizationId, reserve.OperationId, credits, null, new RevenueSplit(2_000, 100), "Test run", CancellationToken.None);
        Assert.True(settle.Succeeded, $"settle: {settle.Status}");
        return settle;
    });
}
