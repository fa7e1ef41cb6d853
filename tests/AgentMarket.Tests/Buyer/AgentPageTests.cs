using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Buyer;

/// <summary>"Add to My Agents" and the playground on the agent page (SPEC §6).</summary>
public class AgentPageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AManager_AddsTheAgent_AndLandsOnItsConfigurePage()
    {
        var agent = await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync();

        var added = await buyer.Client.SubmitAsync($"/agents/{agent.Slug}", "add-to-my-agents");

        var configure = PageForms.AssertRedirect(added, "/my-agents/");
        Assert.EndsWith("/configure?saved=subscribed", configure, StringComparison.Ordinal);
        var landed = await buyer.Client.HtmlAsync(configure);
        Assert.Contains("Added to My Agents.", landed, StringComparison.Ordinal);
        // Its next steps are links, to the pages they name.
        var home = configure[..configure.IndexOf("/configure", StringComparison.Ordinal)];
        foreach (var next in new[] { $"{home}/chat", $"{home}/keys", $"{home}/configure/persona" })
        {
            Assert.Contains($"href=\"{next}\"", landed, StringComparison.Ordinal);
        }
        var configs = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/customer-agent-configs/"));
        Assert.Equal(agent.Slug, Assert.Single(configs.GetProperty("items").EnumerateArray()).GetProperty("listing").GetProperty("slug").GetString());

        var page = await buyer.Client.HtmlAsync($"/agents/{agent.Slug}");
        Assert.Contains("In My Agents", page, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"add-to-my-agents\"", page, StringComparison.Ordinal);
        Assert.Contains("Each run costs 5 credits from your balance.", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVisitor_SignsUpInline_AndLandsBackOnTheAgent_Subscribed()
    {
        var agent = await app.PromptAgentAsync();
        var visitor = app.CreateClient();
        var page = await visitor.HtmlAsync($"/agents/{agent.Slug}");
        Assert.Contains("id=\"try\"", page, StringComparison.Ordinal);
        // The playground is the chat widget, drawn inline for this agent without a key.
        Assert.Contains($"<script src=\"/widget.js\" data-agent=\"{agent.Slug}\" data-inline", page, StringComparison.Ordinal);
        Assert.Contains("Try it free: 3 runs a day, no sign-up needed.", page, StringComparison.Ordinal);
        var email = $"inline-{Guid.NewGuid():N}@tests.example";

        var signedUp = await visitor.SubmitAsync($"/agents/{agent.Slug}", "sign-up-and-add",
            new() { ["name"] = "Ines Inline", ["email"] = email, ["password"] = AgentMarketApp.DefaultPassword });

        Assert.Equal($"/agents/{agent.Slug}?subscribed=1#subscribe", PageForms.AssertRedirect(signedUp, "/agents/"));
        var landed = await visitor.HtmlAsync($"/agents/{agent.Slug}?subscribed=1");
        Assert.Contains("Added to My Agents.", landed, StringComparison.Ordinal);
        Assert.Contains("Ines Inline", landed, StringComparison.Ordinal);
        var configs = await Http.ReadJsonAsync(await visitor.GetAsync("/api/customer-agent-configs/"));
        var config = Assert.Single(configs.GetProperty("items").EnumerateArray());
        Assert.Equal(agent.Slug, config.GetProperty("listing").GetProperty("slug").GetString());
        Assert.Contains($"/my-agents/{config.GetProperty("uuid").GetGuid()}/keys", landed, StringComparison.Ordinal);
        var me = await Http.ReadJsonAsync(await visitor.GetAsync("/api/me"));
        Assert.Equal(email, me.GetProperty("user").GetProperty("email").GetString());
    }

    [Fact]
    public async Task InlineSignUp_ForAMonthTheStarterCreditsCannotPay_MakesTheAccount_AndSaysWhyTheAgentWasNotAdded()
    {
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = 500 });
        var visitor = app.CreateClient();

        var signedUp = await visitor.SubmitAsync($"/agents/{agent.Slug}", "sign-up-and-add",
            new() { ["name"] = "Penny Short", ["email"] = $"short-{Guid.NewGuid():N}@tests.example", ["password"] = AgentMarketApp.DefaultPassword });

        var landing = PageForms.AssertRedirect(signedUp, $"/agents/{agent.Slug}?signed_up=insufficient_credits");
        var html = await visitor.HtmlAsync(landing.Split('#')[0]);
        Assert.Contains("its first month costs more credits than you have.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"add-to-my-agents\"", html, StringComparison.Ordinal);
        var configs = await Http.ReadJsonAsync(await visitor.GetAsync("/api/customer-agent-configs/"));
        Assert.Equal(0, configs.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task InlineSignUp_WithATakenEmail_SaysSo_AndKeepsWhatWasTyped()
    {
        var agent = await app.PromptAgentAsync();
        var existing = await app.SignUpAsync();
        var visitor = app.CreateClient();

        var refused = await visitor.SubmitAsync($"/agents/{agent.Slug}", "sign-up-and-add",
            new() { ["name"] = "Copy Cat", ["email"] = existing.Email, ["password"] = AgentMarketApp.DefaultPassword });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        Assert.Contains("An account with this email already exists.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"Copy Cat\"", html, StringComparison.Ordinal);
        Assert.Contains("<details class=\"inline-signup\" open", html, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await visitor.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ThePlayground_CountsAVisitorsFreeTriesLeftToday()
    {
        var agent = await app.PromptAgentAsync();
        var visitor = app.CreateClient();
        await Http.AssertStatusAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" }), HttpStatusCode.OK);

        Assert.Equal("2 free tries left today.", PageForms.Marked(await visitor.HtmlAsync($"/agents/{agent.Slug}"), "data-trial-left"));
        Assert.Equal("Try it free: 3 runs a day, no sign-up needed.", PageForms.Marked(await app.CreateClient().HtmlAsync($"/agents/{agent.Slug}"), "data-trial-left"));
    }

    [Fact]
    public async Task AMember_IsAskedToFindAManager()
    {
        var agent = await app.PromptAgentAsync();
        var owner = await app.SignUpAsync();
        var member = await app.JoinAsync(owner, "member");
        var html = await member.Client.HtmlAsync($"/agents/{agent.Slug}");
        Assert.Contains("Ask an owner or manager of your organization to add this agent", html, StringComparison.Ordinal);
        Assert.DoesNotContain("value=\"add-to-my-agents\"", html, StringComparison.Ordinal);
    }
}
