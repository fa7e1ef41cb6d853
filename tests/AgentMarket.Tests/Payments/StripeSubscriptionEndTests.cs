using AgentMarket.Credits.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>Its own app, because it moves the clock past a billing period.</summary>
public class StripeSubscriptionEndTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task SubscriptionDeleted_KeepsThePaidPeriod_ThenMovesToFree()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("plus");
        // A token outlives the month the clock jumps (the sign-in cookie would not).
        using var client = app.BearerClient(await user.CreateTokenAsync());
        client.DefaultRequestHeaders.Add("X-Organization", user.OrganizationId.ToString());

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("customer.subscription.deleted", StripeWebhooks.Subscription(subscription.SubscriptionId)));
        var plan = await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"));
        Assert.Equal(("plus", "free"), (plan.GetProperty("plan").GetString(), plan.GetProperty("scheduled_plan").GetString()));

        var jobs = app.Services.GetRequiredService<CreditJobs>();
        await jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal("plus", (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());

        app.Clock.Advance(plan.GetProperty("current_period_end").GetDateTime() - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));
        await jobs.RunOnceAsync(CancellationToken.None);
        var ended = await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"));
        Assert.Equal("free", ended.GetProperty("plan").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, ended.GetProperty("current_period_end").ValueKind);

        // A renewal invoice for the ended subscription no longer renews anything.
        var before = (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64();
        var now = app.Clock.GetUtcNow().UtcDateTime;
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid",
            StripeWebhooks.Invoice(StripeWebhooks.NewId("in"), subscription.SubscriptionId, "subscription_cycle", 1990, now, now.AddMonths(1))));
        Assert.Equal("free", (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        Assert.Equal(before, (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
    }
}
