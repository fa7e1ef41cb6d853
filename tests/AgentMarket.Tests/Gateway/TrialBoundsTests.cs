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

/// <summary>
/// Anonymous playground tries are bounded (ADR-156): a script that keeps no cookie is a new visitor every time, so tries
/// are counted per client address too, the promotions account pays one agent's tries at most a daily budget, and free
/// tries are not social proof.
/// </summary>
public class TrialBoundsTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    GatewayOptions Settings => app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;

    [Fact]
    public async Task CookielessTries_FromOneAddress_StopAtTheAddressLimit()
    {
        var agent = await app.PromptAgentAsync(new { model = "free" });
        using var script = ClientFrom("203.0.113.7");

        for (var n = 0; n < Settings.TrialRunsPerAddressPerDay; n++)
        {
            await Http.AssertStatusAsync(await TryAsync(script, agent), HttpStatusCode.OK);
        }
        var refused = await TryAsync(script, agent);
        await Http.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "trial_limit");
        Assert.NotNull(refused.Headers.RetryAfter?.Delta);

        // Another IPv6 address of the same /64 is the same client; another address is not.
        using var sameV6Block = ClientFrom("2001:db8:5:5::1");
        for (var n = 0; n < Settings.TrialRunsPerAddressPerDay; n++)
        {
            await Http.AssertStatusAsync(await TryAsync(sameV6Block, agent), HttpStatusCode.OK);
        }
        using var nextInBlock = ClientFrom("2001:db8:5:5::2");
        await Http.AssertProblemAsync(await TryAsync(nextInBlock, agent), HttpStatusCode.TooManyRequests, "trial_limit");
        using var elsewhere = ClientFrom("198.51.100.7");
        await Http.AssertStatusAsync(await TryAsync(elsewhere, agent), HttpStatusCode.OK);
    }

    [Fact]
    public async Task TriesFromManyAddresses_PayTheSellerAtMostTheDailyBudget_AndStillRun()
    {
        var (agent, provider) = await PaidAgentAsync();
        var ledger = new LedgerDriver(app);
        var before = (Earned: await ledger.EarningsAsync(provider), Promotions: await ledger.AccountAsync(AccountKind.PlatformPromotions, Guid.Empty));
        var funded = (int)(Settings.TrialCreditsPerListingPerDay / Settings.TrialMaxCreditsPerRun);

        for (var n = 0; n < funded + 3; n++)
        {
            using var script = ClientFrom($"192.0.2.{n + 1}");
            var tried = await Http.ReadJsonAsync(await TryAsync(script, agent));
            Assert.Equal(0, tried.GetProperty("credits_charged").GetInt64());
        }

        await AssertPaidTheBudgetAsync(ledger, provider, before);
    }

    [Fact]
    public async Task ParallelTriesFromManyAddresses_PayTheSellerAtMostTheDailyBudget()
    {
        var (agent, provider) = await PaidAgentAsync();
        var ledger = new LedgerDriver(app);
        var before = (Earned: await ledger.EarningsAsync(provider), Promotions: await ledger.AccountAsync(AccountKind.PlatformPromotions, Guid.Empty));
        var funded = (int)(Settings.TrialCreditsPerListingPerDay / Settings.TrialMaxCreditsPerRun);

        var tries = await Task.WhenAll(Enumerable.Range(1, funded + 10).Select(async n =>
        {
            using var script = ClientFrom($"198.18.0.{n}");
            return await TryAsync(script, agent);
        }));
        foreach (var tried in tries)
        {
            await Http.AssertStatusAsync(tried, HttpStatusCode.OK);
        }

        await AssertPaidTheBudgetAsync(ledger, provider, before);
    }

    [Fact]
    public async Task FreeTries_DoNotCountInTheCatalogsRunCounts_ButASignedInPaidTryDoes()
    {
        var paid = await app.PromptAgentAsync();
        var free = await app.PromptAgentAsync(new { model = "free" });
        var member = await app.SignUpAsync();

        await Http.AssertStatusAsync(await TryAsync(app.CreateClient(), paid), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await TryAsync(app.CreateClient(), free), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await TryAsync(member.Client, free), HttpStatusCode.OK);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        foreach (var agent in new[] { paid, free })
        {
            var stats = (await app.CardAsync(agent)).GetProperty("stats");
            Assert.Equal((0, 0), (stats.GetProperty("runs").GetInt64(), stats.GetProperty("users_30d").GetInt32()));
        }

        var charged = await Http.ReadJsonAsync(await TryAsync(member.Client, paid));
        Assert.True(charged.GetProperty("credits_charged").GetInt64() > 0);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        var counted = (await app.CardAsync(paid)).GetProperty("stats");
        Assert.Equal((1, 1), (counted.GetProperty("runs").GetInt64(), counted.GetProperty("users_30d").GetInt32()));
    }

    /// <summary>An agent priced at what the promotions account pays for one try at most, so each funded try pays exactly that.</summary>
    async Task<(PublishedAgent Agent, Guid Provider)> PaidAgentAsync()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = Settings.TrialMaxCreditsPerRun });
        var provider = (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/{agent.ProviderHandle}"))).GetProperty("uuid").GetGuid();
        return (agent, provider);
    }

    async Task AssertPaidTheBudgetAsync(LedgerDriver ledger, Guid provider, (long Earned, long Promotions) before)
    {
        // The promotions account paid the day's budget for this agent, no more: the provider its share, the platform its fee.
        Assert.Equal(-Settings.TrialCreditsPerListingPerDay, await ledger.AccountAsync(AccountKind.PlatformPromotions, Guid.Empty) - before.Promotions);
        Assert.InRange(await ledger.EarningsAsync(provider) - before.Earned, 1, Settings.TrialCreditsPerListingPerDay);
        Assert.True((await ledger.CheckAsync()).Ok);
    }

    static Task<HttpResponseMessage> TryAsync(HttpClient client, PublishedAgent agent) =>
        client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" });

    /// <summary>A client from one address that keeps no cookies, as a script would.</summary>
    HttpClient ClientFrom(string address) =>
        new(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };
}
