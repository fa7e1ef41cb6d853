using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Runtime;
using AgentMarket.Usage.Pages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Providers;

/// <summary>
/// A seller's statistics and earnings say how many of its agents' runs had their tokens held to what the text can hold
/// or estimated because the model endpoint reported none (ADR-172), in the buyer's words, and only its own agents' runs.
/// </summary>
public class SellerUsageSourceTests(ModelUsageBoundsApp app) : IClassFixture<ModelUsageBoundsApp>
{
    [Fact]
    public async Task StatsAndEconomicsApis_CountTheAgentsBoundedAndEstimatedRuns_NotAnotherSellers()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync());
        var seller = subscribed.Agent.Seller;
        var word = CatalogIntents.UniqueWord();
        Assert.Equal(UsageSource.Reported, await RunAsync(subscribed, $"Counted {word}"));

        Assert.Equal((0L, 0L), Counts(await StatsAsync(subscribed)));
        Assert.Equal((0L, 0L), Counts((await EconomicsAsync(seller)).GetProperty("totals")));

        // Another seller's agent, whose runs are bounded and estimated too: none of them count for the first seller.
        var other = await app.SubscribedAsync(await app.PromptAgentAsync());
        await BoundedAndEstimatedRunsAsync(other, $"other {word}", estimated: 3);
        await BoundedAndEstimatedRunsAsync(subscribed, word, estimated: 2);

        Assert.Equal((1L, 2L), Counts(await StatsAsync(subscribed)));
        var byAgent = await EconomicsAsync(seller, "group_by=agent");
        Assert.Equal((1L, 2L), Counts(byAgent.GetProperty("totals")));
        Assert.Equal((1L, 2L), Counts(Assert.Single(byAgent.GetProperty("rows").EnumerateArray())));
        Assert.Equal((1L, 2L), Counts((await EconomicsAsync(seller)).GetProperty("rows").EnumerateArray().Last()));
        var csv = (await (await seller.Client.GetAsync("/api/providers/mine/economics/?group_by=agent&format=csv")).Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        var (columns, values) = (csv[0].Split(','), Assert.Single(csv[1..]).Split(','));
        Assert.Equal(("1", "2"), (values[Array.IndexOf(columns, "runs_bounded")], values[Array.IndexOf(columns, "runs_estimated")]));

        Assert.Equal((1L, 3L), Counts(await StatsAsync(other)));
        Assert.Equal((1L, 3L), Counts((await EconomicsAsync(other.Agent.Seller)).GetProperty("totals")));
        await Http.AssertStatusAsync(await other.Agent.Seller.Client.GetAsync($"/api/provider-agents/{subscribed.Agent.AgentId}/stats/"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task StatsAndEarningsPages_ShowBoundedAndEstimatedRuns_WithWhy_OnlyWhenThereAreSome()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync());
        var seller = subscribed.Agent.Seller;
        var word = CatalogIntents.UniqueWord();
        Assert.Equal(UsageSource.Reported, await RunAsync(subscribed, $"Counted {word}"));
        var statsPage = $"/provider/agents/{subscribed.Agent.AgentId}/stats";

        foreach (var page in new[] { await seller.Client.HtmlAsync(statsPage), await seller.Client.HtmlAsync("/provider/earnings") })
        {
            foreach (var absent in new[] { "data-usage=\"bounded\"", "data-usage=\"estimated\"", UsageSourceNote.Bounded, UsageSourceNote.Estimated })
            {
                Assert.DoesNotContain(absent, page, StringComparison.Ordinal);
            }
        }

        await BoundedAndEstimatedRunsAsync(subscribed, word, estimated: 2);

        foreach (var page in new[] { await seller.Client.HtmlAsync(statsPage), await seller.Client.HtmlAsync("/provider/earnings") })
        {
            Assert.Equal(("1", "2"), (PageForms.Marked(page, "data-usage=\"bounded\""), PageForms.Marked(page, "data-usage=\"estimated\"")));
            Assert.Contains(UsageSourceNote.Bounded, page, StringComparison.Ordinal);
            Assert.Contains(UsageSourceNote.Estimated, page, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// <paramref name="estimated"/> runs the operator's endpoint does not count, then one the buyer's own endpoint claims
    /// zero tokens for, which is held to the estimate of its text (the buyer's endpoint stays set afterwards).
    /// </summary>
    async Task BoundedAndEstimatedRunsAsync(Subscribed subscribed, string word, int estimated)
    {
        app.Model.When($"Silent {word}", new FakeReply { Text = "An answer the operator's endpoint never counted.", NoUsage = true });
        for (var i = 0; i < estimated; i++)
        {
            Assert.Equal(UsageSource.Estimated, await RunAsync(subscribed, $"Silent {word} {i}"));
        }
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { base_url = app.FlowEndpoint.BaseUrl.ToString(), model = "their-model", api_key = "their-key" } }), HttpStatusCode.OK);
        app.FlowEndpoint.When($"Zero {word}", new FakeReply { Text = "Yes, but reported as nothing.", Usage = (0, 0) });
        Assert.Equal(UsageSource.Bounded, await RunAsync(subscribed, $"Zero {word}"));
    }

    async Task<UsageSource?> RunAsync(Subscribed subscribed, string question)
    {
        var runId = (await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, question))).GetProperty("run_id").GetGuid();
        return await app.InScopeAsync(null, services =>
            services.GetRequiredService<AppDbContext>().AgentRuns.AsNoTracking().Where(r => r.Id == runId).Select(r => r.UsageSource).SingleAsync());
    }

    static async Task<JsonElement> StatsAsync(Subscribed subscribed) =>
        await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync($"/api/provider-agents/{subscribed.Agent.AgentId}/stats/"));

    static async Task<JsonElement> EconomicsAsync(TestUser seller, string query = "") =>
        await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/providers/mine/economics/?{query}"));

    static (long Bounded, long Estimated) Counts(JsonElement figures) =>
        (figures.GetProperty("runs_bounded").GetInt64(), figures.GetProperty("runs_estimated").GetInt64());
}
