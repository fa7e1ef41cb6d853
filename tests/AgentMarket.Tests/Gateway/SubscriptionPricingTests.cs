using System.Net;
using System.Net.Http.Json;
using AgentMarket.Credits.Ledger;
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
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        Assert.Equal(config.GetProperty("subscribed").GetDateTime().AddMonths(1), config.GetProperty("renews_at").GetDateTime());

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
    public async Task ConcurrentSubscribes_StoreOneSubscription_AndChargeTheMonthOnce()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var buyer = await app.SignUpAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug })));

        var created = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        var config = (await Http.ReadJsonAsync(created, HttpStatusCode.Created)).GetProperty("customer_agent_config").GetGuid();
        // The others are told it is already subscribed, or, while the winner's month was still held, that the wallet
        // could not pay another month.
        foreach (var refused in responses.Where(r => r != created))
        {
            Assert.Contains(refused.StatusCode, new[] { HttpStatusCode.Conflict, HttpStatusCode.PaymentRequired });
        }
        Assert.Equal(config, (await Http.AssertProblemAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug }),
            HttpStatusCode.Conflict, "already_subscribed")).GetProperty("customer_agent_config").GetGuid());
        var balance = await buyer.BalanceAsync();
        Assert.Equal((250L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var mine = (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/customer-agent-configs/"))).GetProperty("items").EnumerateArray();
        Assert.Single(mine, c => c.GetProperty("state").GetString() == "active");
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task AnAgentUnsubscribed_CanBeSubscribedToAgain_AndOnlyTheLiveSubscriptionCounts()
    {
        var agent = await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync();
        var first = await buyer.SubscribeAsync(agent);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{first}/"), HttpStatusCode.NoContent);

        var again = await buyer.SubscribeAsync(agent);
        Assert.NotEqual(first, again);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{again}/"), HttpStatusCode.NoContent);
        Assert.NotEqual(again, await buyer.SubscribeAsync(agent));
    }

    [Fact]
    public async Task UnsubscribingAndAddingAMonthlyAgentAgain_ContinuesTheMonthPaid_InsteadOfPayingAnother()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var buyer = await app.SignUpAsync();
        var first = await buyer.SubscribeAsync(agent);
        Assert.Equal(250, (await buyer.BalanceAsync()).GetProperty("balance").GetInt64());

        for (var i = 0; i < 3; i++)
        {
            var current = i == 0 ? first : (await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/customer-agent-configs/"))).GetProperty("items")
                .EnumerateArray().Single(c => c.GetProperty("state").GetString() == "active").GetProperty("uuid").GetGuid();
            await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{current}/"), HttpStatusCode.NoContent);
            await buyer.SubscribeAsync(agent);
        }
        Assert.Equal(250, (await buyer.BalanceAsync()).GetProperty("balance").GetInt64());

        // The month carried over ends when the first one did: the next is charged then, once.
        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        app.Clock.Advance(TimeSpan.FromDays(31));
        await jobs.RunOnceAsync(CancellationToken.None);
        await jobs.RunOnceAsync(CancellationToken.None);
        var token = app.BearerClient(await buyer.CreateTokenAsync());
        Assert.Equal(200, (await Http.ReadJsonAsync(await token.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);
    }

    [Fact]
    public async Task AMonthWhenTheAgentIsPaused_IsNotCharged()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var subscribed = await app.SubscribedAsync(agent);
        await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause", null));

        app.Clock.Advance(TimeSpan.FromDays(31));
        await app.Services.GetRequiredService<SubscriptionCharges>().RunOnceAsync(CancellationToken.None);
        var token = app.BearerClient(await subscribed.Buyer.CreateTokenAsync());
        // 250 after the first month, + 50 daily credits of the new day, and no second month while its runs are refused.
        Assert.Equal(300, (await Http.ReadJsonAsync(await token.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task AProviderSubscribedToItsOwnAgent_PaysTheMonth_ButEarnsNothingFromIt()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 100 });
        var provider = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
        var ledger = new LedgerDriver(app);
        var before = await ledger.AccountAsync(AccountKind.ProviderEarnings, provider);

        await agent.Seller.SubscribeAsync(agent);

        Assert.Equal(250, (await agent.Seller.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal(before, await ledger.AccountAsync(AccountKind.ProviderEarnings, provider));
        Assert.True((await ledger.CheckAsync()).Ok);
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
