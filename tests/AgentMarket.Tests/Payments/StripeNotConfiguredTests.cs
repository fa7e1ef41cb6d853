using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>Without Stripe keys the sandbox is the provider and Stripe's routes say so.</summary>
public class StripeNotConfiguredTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task StripeCheckout_Returns409StripeNotConfigured()
    {
        var user = await app.SignUpAsync();
        var response = await user.Client.PostAsJsonAsync("/api/stripe/checkout/", new { plan = "plus" });
        await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "stripe_not_configured");
        Assert.Equal(0, (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task StripeWebhook_Returns404_AndGrantsNothing()
    {
        var user = await app.SignUpAsync();
        var checkout = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus" }), HttpStatusCode.Created);
        var payload = StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(checkout.GetProperty("checkout_uuid").GetGuid(), "subscription", subscription: "sub_test_x", invoice: "in_test_x"));
        var response = await StripeWebhooks.PostAsync(app, payload, StripeWebhooks.Signature(payload, app.Clock.GetUtcNow()));
        await Http.AssertProblemAsync(response, HttpStatusCode.NotFound, "not_found");
        Assert.Equal("free", (await user.BalanceAsync()).GetProperty("plan").GetString());
    }
}
