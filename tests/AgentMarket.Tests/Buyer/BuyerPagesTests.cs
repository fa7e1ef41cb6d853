using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Buyer;

/// <summary>The buyer's pages render for their owner, are not found for other organizations and ask visitors to sign in.</summary>
public class BuyerPagesTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    static IEnumerable<string> PagesOf(Guid config, string session) =>
    [
        $"/my-agents/{config}/configure",
        $"/my-agents/{config}/configure/persona",
        $"/my-agents/{config}/configure/branding",
        $"/my-agents/{config}/configure/training",
        $"/my-agents/{config}/configure/widget",
        $"/my-agents/{config}/configure/advanced",
        $"/my-agents/{config}/keys",
        $"/my-agents/{config}/chat",
        $"/my-agents/{config}/chat?session={session}",
    ];

    [Fact]
    public async Task EverySubscriptionPage_Renders_ForItsOwner_AndIsNotFound_ForAnotherOrganization()
    {
        var subscribed = await app.SubscribedAsync();
        var run = await Http.ReadJsonAsync(await subscribed.Buyer.Client.RunAsync(subscribed.Config, "Hello from the page test"));
        var session = run.GetProperty("session_id").GetString()!;
        var stranger = await app.SignUpAsync("Stranger");

        foreach (var url in PagesOf(subscribed.Config, session))
        {
            var html = await subscribed.Buyer.Client.HtmlAsync(url);
            Assert.Contains(subscribed.Agent.Name, html, StringComparison.Ordinal);
            var theirs = await stranger.Client.HtmlAsync(url, HttpStatusCode.NotFound);
            Assert.DoesNotContain(subscribed.Agent.Name, theirs, StringComparison.Ordinal);
        }
        var conversation = await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/chat?session={session}");
        Assert.Contains("Hello from the page test", conversation, StringComparison.Ordinal);
        Assert.Contains("I am the default answer.", conversation, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EverySubscriptionPage_OffersChatConfigureAndKeys_Once_MarkingWhereTheBuyerIs()
    {
        var subscribed = await app.SubscribedAsync();
        var run = await Http.ReadJsonAsync(await subscribed.Buyer.Client.RunAsync(subscribed.Config, "Hello from the nav test"));
        var session = run.GetProperty("session_id").GetString()!;

        foreach (var url in PagesOf(subscribed.Config, session))
        {
            var nav = Regex.Match(await subscribed.Buyer.Client.HtmlAsync(url), "<nav class=\"agent-actions\"[^>]*>(.*?)</nav>", RegexOptions.Singleline).Groups[1].Value;
            var actions = Regex.Matches(nav, ">([^<]+)</a>").Select(m => m.Groups[1].Value).ToList();
            Assert.Equal(["Chat", "Configure", "API Keys"], actions);
            // The widget is one of Configure's tabs, so its page is under Configure like the other tabs.
            var expected = url.Contains("/chat", StringComparison.Ordinal) ? "Chat" : url.Contains("/keys", StringComparison.Ordinal) ? "API Keys" : "Configure";
            Assert.Equal(expected, Regex.Match(nav, "aria-current=\"page\">([^<]+)</a>").Groups[1].Value);
        }
    }

    [Fact]
    public async Task BuyerPages_AskVisitorsToSignIn()
    {
        var visitor = app.CreateClient();
        foreach (var url in PagesOf(Guid.CreateVersion7(), "s").Concat(["/my-agents", "/my-agents/usage", "/dashboard"]))
        {
            var response = await visitor.GetAsync(url);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnUnknownTab_IsNotFound_AndTheOverviewOffersEveryTab()
    {
        var subscribed = await app.SubscribedAsync();
        await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure/nonsense", HttpStatusCode.NotFound);
        var overview = await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure");
        foreach (var tab in new[] { "persona", "branding", "training", "widget", "advanced" })
        {
            Assert.Contains($"/my-agents/{subscribed.Config}/configure/{tab}\"", overview, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task MyAgents_WithoutAgents_SendsPeopleToTheMarketplace()
    {
        var newcomer = await app.SignUpAsync();
        var html = await newcomer.Client.HtmlAsync("/my-agents");
        Assert.Contains("No agents yet.", html, StringComparison.Ordinal);
        Assert.Contains("Browse the marketplace", html, StringComparison.Ordinal);
        Assert.Equal("0", PageForms.Marked(html, "data-stat=\"agents\""));
        Assert.Equal("350", PageForms.Marked(html, "data-stat=\"credits\""));
    }

    [Fact]
    public async Task MyAgents_ShowsCreditsRunsAgentsAndSpending_AndACardPerAgentWithItsQuickActions()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "one"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "two"), HttpStatusCode.OK);
        var other = await app.PromptAgentAsync();
        await subscribed.Buyer.SubscribeAsync(other);

        var html = await subscribed.Buyer.Client.HtmlAsync("/my-agents");
        Assert.Equal("340", PageForms.Marked(html, "data-stat=\"credits\""));
        Assert.Equal("2", PageForms.Marked(html, "data-stat=\"runs\""));
        Assert.Equal("2", PageForms.Marked(html, "data-stat=\"agents\""));
        Assert.Equal("10", PageForms.Marked(html, "data-stat=\"spent\""));
        foreach (var action in new[] { "chat", "configure", "keys", "configure/widget" })
        {
            Assert.Contains($"href=\"/my-agents/{subscribed.Config}/{action}\"", html, StringComparison.Ordinal);
        }
        Assert.Contains(other.Name, html, StringComparison.Ordinal);
        Assert.Contains("Working in <strong>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dashboard_SendsABuyerToMyAgents_ASellerToTheProviderDashboard_AndAnOperatorToTheConsole()
    {
        var buyer = await app.SignUpAsync();
        var (seller, _) = await app.SellerAsync();

        PageForms.AssertRedirect(await buyer.Client.GetAsync("/dashboard"), "/my-agents");
        PageForms.AssertRedirect(await seller.Client.GetAsync("/dashboard"), "/provider");
        PageForms.AssertRedirect(await (await app.OperatorAsync()).GetAsync("/dashboard"), "/admin");
        // Signing in still lands there, and so goes on to the right home.
        using var browser = app.CreateClient();
        PageForms.AssertRedirect(await browser.SubmitAsync("/signin", "signin", new() { ["Input.Email"] = seller.Email, ["Input.Password"] = seller.Password }), "/dashboard");
        PageForms.AssertRedirect(await browser.GetAsync("/dashboard"), "/provider");
    }

    [Fact]
    public async Task UsagePage_ChartsRunsAndCredits_AndListsAgentsAndKeys()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "one"), HttpStatusCode.OK);

        var html = await subscribed.Buyer.Client.HtmlAsync("/my-agents/usage");

        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains("role=\"img\"", html, StringComparison.Ordinal);
        Assert.Matches("<desc id=\"usage-runs-desc\">1 run from [0-9-]+ to [0-9-]+; the most, 1, on [0-9-]+.</desc>", html);
        Assert.Matches("<desc id=\"usage-credits-desc\">5 credits from", html);
        Assert.Equal("1", PageForms.Marked(html, "data-usage=\"runs\""));
        Assert.Contains(subscribed.Agent.Name, html, StringComparison.Ordinal);
        Assert.Contains("server (am_live_", html, StringComparison.Ordinal);
        Assert.Contains("/api/usage/?format=csv&group_by=key", html, StringComparison.Ordinal);

        var invalid = await subscribed.Buyer.Client.HtmlAsync("/my-agents/usage?from=2026-02-01&to=2026-01-01");
        Assert.Contains("The first day must not be after the last.", invalid, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MembersSeeSettings_ButOnlyManagersChangeThem()
    {
        var subscribed = await app.SubscribedAsync();
        var member = await app.JoinAsync(subscribed.Buyer, "member");

        var persona = await member.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure/persona");
        Assert.Contains("owners and managers of your organization change them", persona, StringComparison.Ordinal);
        Assert.DoesNotContain("Save persona", persona, StringComparison.Ordinal);
        var keys = await member.Client.HtmlAsync($"/my-agents/{subscribed.Config}/keys");
        Assert.DoesNotContain("Create a key", keys, StringComparison.Ordinal);
        Assert.DoesNotContain("Unsubscribe", await member.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure"), StringComparison.Ordinal);

        var name = await Http.ReadJsonAsync(await member.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        Assert.Equal(subscribed.Agent.Name, name.GetProperty("name").GetString());
        await Http.AssertStatusAsync(await member.Client.PostAsJsonAsync("/api/agents/" + subscribed.Config + "/run/", new { input = "members chat" }), HttpStatusCode.OK);
    }
}
