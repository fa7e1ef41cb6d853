using System.Net;
using AgentMarket.Subscriptions.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>Subscription-priced agents: paid monthly through the ledger, runs free, past due when a month cannot be paid.</summary>
public class SubscriptionPricingTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task SubscribingCharges_TheFirstMonth_RunsCostNothing_AndEachMonthIsChargedOnce()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var subscribed = await app.SubscribedAsync(agent);
        Assert.Equal(250, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
        var run = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "included in the month"));
        Assert.Equal(0, run.GetProperty("credits_charged").GetInt64());

        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        await jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(250, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());

        app.Clock.Advance(TimeSpan.FromDays(31));
        await jobs.RunOnceAsync(CancellationToken.None);
        await jobs.RunOnceAsync(CancellationToken.None);
        var token = app.BearerClient(await subscribed.Buyer.CreateTokenAsync());
        var balance = await Http.ReadJsonAsync(await token.GetAsync("/api/credits/balance/"));
        // 250 − 100 for the second month + 50 daily credits of the new day.
        Assert.Equal(200, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task AMonthTheWalletCannotPay_MakesTheSubscriptionPastDue_UntilCreditsArrive()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 300 });
        var subscribed = await app.SubscribedAsync(agent);
        app.Clock.Advance(TimeSpan.FromDays(31));
        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        await jobs.RunOnceAsync(CancellationToken.None);

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "am I still subscribed?"), HttpStatusCode.PaymentRequired, "subscription_past_due");

        await new LedgerDriver(app).PurchaseAsync(subscribed.Buyer.OrganizationId, 500, $"top-up-{subscribed.Config}");
        await jobs.RunOnceAsync(CancellationToken.None);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "back again"), HttpStatusCode.OK);
    }
}
