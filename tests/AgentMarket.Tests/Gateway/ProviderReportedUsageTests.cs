using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

using static AgentMarket.Tests.Gateway.UsageReports;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// A provider's runtime reports usage only for agents its provider declared to run on it (<c>reports_usage</c>, ADR-127):
/// any other agent is run by the platform, so a report for it would bill a run that never happened. Buyers see the
/// declaration on the agent page, in the catalog API and on their subscription's overview.
/// </summary>
public class ProviderReportedUsageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AReport_ForAnAgentThatDoesNotReportUsage_Is409AndChargesAndRecordsNothing_UntilItsProviderOptsIn()
    {
        var (earlier, provider) = await SubscribedWithSecretAsync();

        var refused = await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(earlier.Config)), HttpStatusCode.Conflict, "usage_not_reported_by_provider");
        Assert.Contains("reports_usage", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(earlier.Config)), HttpStatusCode.Conflict, "usage_not_reported_by_provider");
        await AssertNothingChargedOrRecordedAsync(earlier);

        var declared = await SetReportsUsageAsync(earlier.Agent, true);
        Assert.True(declared.GetProperty("reports_usage").GetBoolean());
        var since = declared.GetProperty("reports_usage_since").GetDateTime();
        // A buyer who subscribes now is charged for reports at once (one who subscribed before gets a notice first, ADR-158).
        var subscribed = await app.SubscribedAsync(earlier.Agent);
        var report = Report(subscribed.Config);

        var first = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.Created);
        var retry = await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.OK);
        Assert.Equal(40, first.GetProperty("credits_charged").GetInt64());
        Assert.Equal(first.GetProperty("run_id").GetGuid(), retry.GetProperty("run_id").GetGuid());
        Assert.Equal(350 - 40, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
        var totals = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/"))).GetProperty("totals");
        Assert.Equal((1, 40L), (totals.GetProperty("runs").GetInt32(), totals.GetProperty("credits_charged").GetInt64()));

        // Turning it on again keeps its date; turning it off refuses reports again.
        Assert.Equal(since, (await SetReportsUsageAsync(subscribed.Agent, true)).GetProperty("reports_usage_since").GetDateTime());
        var off = await SetReportsUsageAsync(subscribed.Agent, false);
        Assert.Equal((false, JsonValueKind.Null), (off.GetProperty("reports_usage").GetBoolean(), off.GetProperty("reports_usage_since").ValueKind));
        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config)), HttpStatusCode.Conflict, "usage_not_reported_by_provider");
        // A retry of an event reported while it was on still gets its answer.
        Assert.Equal(first.GetProperty("run_id").GetGuid(), (await Http.ReadJsonAsync(await PostSignedAsync(provider, report), HttpStatusCode.OK)).GetProperty("run_id").GetGuid());
        Assert.Equal(350 - 40, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AReport_ForAPausedAgent_Is409AndChargesAndRecordsNothing()
    {
        var (subscribed, provider) = await SubscribedWithSecretAsync();
        await SetReportsUsageAsync(subscribed.Agent, true);
        await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.PostAsync($"/api/provider-agents/{subscribed.Agent.AgentId}/listing/pause", null));

        await Http.AssertProblemAsync(await PostSignedAsync(provider, Report(subscribed.Config)), HttpStatusCode.Conflict, "agent_unavailable");
        await AssertNothingChargedOrRecordedAsync(subscribed);
    }

    [Fact]
    public async Task TheDeclaration_IsShownOnTheAgentPage_ItsApi_AndTheOverviewOfSubscribers_IncludingThoseWhoSubscribedBefore()
    {
        var (earlier, _) = await SubscribedWithSecretAsync();
        var agent = earlier.Agent;
        var overview = $"/my-agents/{earlier.Config}/configure";

        Assert.False((await app.DetailsAsync(agent.Slug)).GetProperty("reports_usage").GetBoolean());
        Assert.DoesNotContain("data-reports-usage", await app.CreateClient().HtmlAsync($"/agents/{agent.Slug}"), StringComparison.Ordinal);
        var before = await earlier.Buyer.Client.HtmlAsync(overview);
        Assert.Equal("The marketplace's servers, which meter each run.", PageForms.Marked(before, "data-config-runtime"));
        Assert.DoesNotContain("data-reports-usage-notice", before, StringComparison.Ordinal);
        Assert.False((await ConfigAsync(earlier)).GetProperty("reports_usage").GetBoolean());

        await SetReportsUsageAsync(agent, true);

        var details = await app.DetailsAsync(agent.Slug);
        Assert.True(details.GetProperty("reports_usage").GetBoolean());
        Assert.Equal(JsonValueKind.String, details.GetProperty("reports_usage_since").ValueKind);
        Assert.Contains("Runs on its provider's servers; its provider reports each run's usage",
            PageForms.Marked(await app.CreateClient().HtmlAsync($"/agents/{agent.Slug}"), "data-reports-usage"), StringComparison.Ordinal);

        // A subscriber from before is told it changed after they subscribed.
        var config = await ConfigAsync(earlier);
        Assert.True(config.GetProperty("reports_usage").GetBoolean());
        Assert.True(config.GetProperty("reports_usage_since").GetDateTime() > config.GetProperty("subscribed").GetDateTime());
        var after = await earlier.Buyer.Client.HtmlAsync(overview);
        Assert.StartsWith("Its provider's servers; its provider reports each run's usage", PageForms.Marked(after, "data-config-runtime"), StringComparison.Ordinal);
        Assert.Contains("after you subscribed", PageForms.Marked(after, "data-reports-usage-notice"), StringComparison.Ordinal);

        // One who subscribes afterwards saw it on the agent page: no notice of a change.
        var later = await app.SubscribedAsync(agent);
        var theirs = await later.Buyer.Client.HtmlAsync($"/my-agents/{later.Config}/configure");
        Assert.StartsWith("Its provider's servers", PageForms.Marked(theirs, "data-config-runtime"), StringComparison.Ordinal);
        Assert.DoesNotContain("data-reports-usage-notice", theirs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyTheAgentsOwnManagers_CanSetIt_AndItTakesABoolean()
    {
        var agent = await app.PromptAgentAsync();
        var (otherSeller, _) = await app.SellerAsync();
        var buyer = await app.SignUpAsync("Buyer");
        var url = $"/api/provider-agents/{agent.AgentId}/";

        await Http.AssertProblemAsync(await otherSeller.Client.PatchAsJsonAsync(url, new { reports_usage = true }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await buyer.Client.PatchAsJsonAsync(url, new { reports_usage = true }), HttpStatusCode.NotFound, "not_found");
        foreach (var body in new[] { """{"reports_usage":"yes"}""", """{"reports_usage":1}""", """{"reports_usage":{}}""" })
        {
            await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsync(url, new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        }
        Assert.False((await app.DetailsAsync(agent.Slug)).GetProperty("reports_usage").GetBoolean());

        // Null, or a patch of other fields, leaves it as it is.
        await SetReportsUsageAsync(agent, true);
        var renamed = await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(url, new { description = "Still reported.", reports_usage = (bool?)null }));
        Assert.True(renamed.GetProperty("reports_usage").GetBoolean());
        Assert.True((await app.DetailsAsync(agent.Slug)).GetProperty("reports_usage").GetBoolean());
    }

    [Fact]
    public async Task TheSellersAgentPage_TurnsItOnAndOff_AndAPageReadBeforeAnotherChange_ChangesNothing()
    {
        var agent = await app.PromptAgentAsync();
        var url = $"/provider/agents/{agent.AgentId}";
        Assert.Equal("off", ReportsUsageState(await agent.Seller.Client.HtmlAsync(url)));

        PageForms.AssertRedirect(await agent.Seller.Client.SubmitAsync(url, "usage-reporting", new() { ["reports_usage"] = "on" }), $"{url}?done=usage-on");
        Assert.Equal("on", ReportsUsageState(await agent.Seller.Client.HtmlAsync(url)));
        Assert.True((await app.DetailsAsync(agent.Slug)).GetProperty("reports_usage").GetBoolean());

        // Turned off through the API after the page was read: the page's button says what it does, and does nothing.
        var page = await agent.Seller.Client.HtmlAsync(url);
        PageForms.AssertRedirect(await agent.Seller.Client.SubmitFromPageAsync(url, page, "usage-reporting", new() { ["reports_usage"] = "off" }), $"{url}?done=usage-off");
        var stale = await agent.Seller.Client.SubmitFromPageAsync(url, page, "usage-reporting", new() { ["reports_usage"] = "off" });
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("Usage reports were already refused for this agent: nothing changed.", await stale.HtmlAsync(), StringComparison.Ordinal);
        Assert.False((await app.DetailsAsync(agent.Slug)).GetProperty("reports_usage").GetBoolean());
    }

    static string ReportsUsageState(string html)
    {
        var match = System.Text.RegularExpressions.Regex.Match(html, "data-reports-usage=\"(on|off)\"");
        Assert.True(match.Success, "the page does not say where the agent runs");
        return match.Groups[1].Value;
    }

    static async Task AssertNothingChargedOrRecordedAsync(Subscribed subscribed)
    {
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 0L), (balance.GetProperty("available").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var spend = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/transactions/?type=spend"));
        Assert.Equal(0, spend.GetProperty("total").GetInt32());
        var totals = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/usage/?config={subscribed.Config}"))).GetProperty("totals");
        Assert.Equal(0, totals.GetProperty("runs").GetInt32());
    }

    static async Task<JsonElement> SetReportsUsageAsync(PublishedAgent agent, bool on) =>
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { reports_usage = on }));

    static async Task<JsonElement> ConfigAsync(Subscribed subscribed) =>
        await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));

    async Task<(Subscribed Subscribed, ProviderSecret Provider)> SubscribedWithSecretAsync()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 40 }));
        var seller = subscribed.Agent.Seller.Client;
        return (subscribed, await ProviderSecret.CreateAsync(seller));
    }

    Task<HttpResponseMessage> PostSignedAsync(ProviderSecret provider, object report) => app.PostSignedAsync(provider, report, DateTimeOffset.UtcNow);
}
