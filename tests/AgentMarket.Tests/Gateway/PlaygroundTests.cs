using System.Net;
using System.Net.Http.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>Try before you subscribe (SPEC §6): the playground on every agent page.</summary>
public class PlaygroundTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task Visitor_GetsThreeFreeTriesPerAgentPerDay_PaidByThePlatform()
    {
        var agent = await app.PromptAgentAsync();
        var visitor = app.CreateClient();
        var providerBefore = await new LedgerDriver(app).AccountAsync(AccountKind.ProviderEarnings, await ProviderIdAsync(agent));

        for (var left = 2; left >= 0; left--)
        {
            var tried = await Http.ReadJsonAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }));
            Assert.Equal("I am the default answer.", tried.GetProperty("output").GetString());
            Assert.Equal(0, tried.GetProperty("credits_charged").GetInt64());
            Assert.Equal(left, tried.GetProperty("trial_runs_left").GetInt32());
        }
        var refused = await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" });
        await Http.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "trial_limit");
        Assert.NotNull(refused.Headers.RetryAfter);

        // The provider was paid for the three runs (5 credits each, minus the 20% fee) by the promotions account.
        var providerAfter = await new LedgerDriver(app).AccountAsync(AccountKind.ProviderEarnings, await ProviderIdAsync(agent));
        Assert.Equal(3 * 4, providerAfter - providerBefore);
        Assert.True((await new LedgerDriver(app).CheckAsync()).Ok);

        // Another visitor has their own allowance.
        await Http.AssertStatusAsync(await app.CreateClient().PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task SignedInUser_WithoutASubscription_PaysPerRunFromCredits()
    {
        var agent = await app.PromptAgentAsync();
        var user = await app.SignUpAsync();
        var tried = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }));
        Assert.Equal(5, tried.GetProperty("credits_charged").GetInt64());
        Assert.Equal(345, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Visitor_TriesAMemoryAgent_AndItRemembersTheirSessionOnly()
    {
        var agent = await app.MemoryAgentAsync();
        var visitor = app.CreateClient();
        var first = await Http.ReadJsonAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "My name is Grace." }));
        var session = first.GetProperty("session_id").GetString()!;
        await Http.ReadJsonAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "Who am I, visitor?", session_id = session }));
        var second = app.Model.Requests.Last(r => r.Prompt.Contains("Who am I, visitor?", StringComparison.Ordinal));
        Assert.Contains("My name is Grace.", second.Prompt, StringComparison.Ordinal);

        // Another visitor who sends the same session id has their own, empty, memory.
        await Http.ReadJsonAsync(await app.CreateClient().PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "Who am I, stranger?", session_id = session }));
        var stranger = app.Model.Requests.Last(r => r.Prompt.Contains("Who am I, stranger?", StringComparison.Ordinal));
        Assert.DoesNotContain("My name is Grace.", stranger.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVisitorsTryOfAnExpensiveAgent_PaysTheProviderNoMoreThanTheTrialCap()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1_000_000 });
        var earnings = new LedgerDriver(app);
        var provider = await ProviderIdAsync(agent);
        var before = (await earnings.AccountAsync(AccountKind.ProviderEarnings, provider), await earnings.AccountAsync(AccountKind.PlatformPromotions, Guid.Empty));

        await Http.AssertStatusAsync(await app.CreateClient().PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }), HttpStatusCode.OK);

        // At most Gateway:TrialMaxCreditsPerRun (10) from promotions: 8 to the provider, 2 as the platform's fee.
        var cap = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.TrialMaxCreditsPerRun;
        Assert.Equal(10, cap);
        Assert.Equal(8, await earnings.AccountAsync(AccountKind.ProviderEarnings, provider) - before.Item1);
        Assert.Equal(-cap, await earnings.AccountAsync(AccountKind.PlatformPromotions, Guid.Empty) - before.Item2);
        Assert.True((await earnings.CheckAsync()).Ok);
    }

    [Fact]
    public async Task AProviderRunningItsOwnAgent_PaysLikeABuyer_ButEarnsNothingFromIt()
    {
        var agent = await app.PromptAgentAsync();
        var earnings = new LedgerDriver(app);
        var provider = await ProviderIdAsync(agent);
        var before = await earnings.AccountAsync(AccountKind.ProviderEarnings, provider);

        // Subscribed to its own agent, with the sign-up credits every organization gets, and in its own playground.
        var config = await agent.Seller.SubscribeAsync(agent);
        var run = await Http.ReadJsonAsync(await agent.Seller.Client.PostAsJsonAsync($"/api/agents/{config}/run/", new { input = "my own agent" }));
        Assert.Equal(5, run.GetProperty("credits_charged").GetInt64());
        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "again" }), HttpStatusCode.OK);

        Assert.Equal(before, await earnings.AccountAsync(AccountKind.ProviderEarnings, provider));
        Assert.True((await earnings.CheckAsync()).Ok);

        // Nor do its own runs count as social proof; a buyer's paid run does.
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        var stats = (await app.CardAsync(agent)).GetProperty("stats");
        Assert.Equal((0, 0), (stats.GetProperty("runs").GetInt64(), stats.GetProperty("users_30d").GetInt32()));
        var buyer = await app.SignUpAsync();
        await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "a buyer" }), HttpStatusCode.OK);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        Assert.Equal(1, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());
    }

    [Fact]
    public async Task UnknownOrUnpublishedAgents_AreNotFound()
    {
        await Http.AssertProblemAsync(await app.CreateClient().PostAsJsonAsync("/api/marketplace/agents/no-such-agent/try/", new { input = "hi" }), HttpStatusCode.NotFound, "not_found");
    }

    async Task<Guid> ProviderIdAsync(Catalog.PublishedAgent agent) =>
        (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{agent.ProviderHandle}"))).GetProperty("uuid").GetGuid();
}
