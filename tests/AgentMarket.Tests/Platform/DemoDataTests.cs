using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Seed;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentMarket.Tests.Platform;

/// <summary>The app as the README's first command starts it: with demo data (and a model, as an operator configures one).</summary>
public sealed class DemoApp : GatewayApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => base.ExtraSettings().Append(new("Seed:Demo", "true"));
}

public class DemoDataTests(DemoApp app) : IClassFixture<DemoApp>
{
    [Fact]
    public async Task HomePage_ListsTheDemoCatalog_WithCategoriesProvidersPricesAndRatings()
    {
        var response = await app.CreateClient().GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = System.Net.WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        foreach (var expected in new[] { "Support Copilot", "Invoice Extractor", "Research Assistant", "@northwind-ai", "@lumen-labs", "@flowsmith", "5 credits/run", "★ 4.5 (2)", "PRO", "Automations" })
        {
            Assert.Contains(expected, html, StringComparison.Ordinal);
        }
        Assert.Equal(12, System.Text.RegularExpressions.Regex.Count(html, "class=\"card agent-card\""));

        var automations = await (await app.CreateClient().GetAsync("/?category=automations")).Content.ReadAsStringAsync();
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(automations, "class=\"card agent-card\""));
        Assert.DoesNotContain("Support Copilot", automations, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seeding_Again_AddsNothing()
    {
        var before = await (await app.CreateClient().GetAsync("/")).Content.ReadAsStringAsync();
        var seeder = app.Services.GetServices<IHostedService>().OfType<DemoData>().Single();
        await seeder.StartAsync(CancellationToken.None);
        var after = System.Net.WebUtility.HtmlDecode(await (await app.CreateClient().GetAsync("/")).Content.ReadAsStringAsync());
        Assert.Equal(
            System.Text.RegularExpressions.Regex.Count(before, "agent-card"),
            System.Text.RegularExpressions.Regex.Count(after, "agent-card"));
        Assert.Contains("★ 4.5 (2)", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryDemoListing_CanBeTried_AndSubscribedTo_AndRunsItsOwnPersona()
    {
        var visitor = app.CreateClient();
        var cards = (await Http.ReadJsonAsync(await visitor.GetAsync("/api/marketplace/agents/?limit=100"))).GetProperty("items").EnumerateArray()
            .Select(c => c.GetProperty("slug").GetString()!).ToList();
        Assert.Equal(12, cards.Count);
        foreach (var slug in cards)
        {
            var tried = await Http.ReadJsonAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{slug}/try/", new { input = $"Hello {slug}" }));
            Assert.Equal("I am the default answer.", tried.GetProperty("output").GetString());
        }
        Assert.Contains(app.Model.Requests, r => r.LastUser == "Hello blog-writer" && r.System?.Contains("You are Blog Writer", StringComparison.Ordinal) == true);

        var buyer = await app.SignUpAsync();
        var order = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = "blog-writer" }), HttpStatusCode.Created);
        var config = order.GetProperty("customer_agent_config").GetGuid();
        var run = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/agents/{config}/run/", new { input = "Write about tea" }));
        Assert.Equal((8L, "I am the default answer."), (run.GetProperty("credits_charged").GetInt64(), run.GetProperty("output").GetString()));
    }

    [Fact]
    public async Task ATemplateAgent_RemembersTheConversation_EvenWithTheBuyersOwnPersona()
    {
        var buyer = await app.SignUpAsync();
        var order = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = "meeting-summarizer" }), HttpStatusCode.Created);
        var config = order.GetProperty("customer_agent_config").GetGuid();
        var persona = $"You are Minute Taker {Guid.NewGuid():N}.";
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{config}/", new { persona = new { system_prompt = persona } }));
        var secret = $"My project is called {Guid.NewGuid():N}.";

        var first = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/agents/{config}/run/", new { input = secret }));
        var session = first.GetProperty("session_id").GetString();
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/agents/{config}/run/", new { input = "What is my project called?", session_id = session }));

        var second = app.Model.Requests.Last(r => r.LastUser == "What is my project called?");
        Assert.Contains(persona, second.System, StringComparison.Ordinal);
        Assert.Contains(secret, second.System, StringComparison.Ordinal);
        Assert.Contains("I am the default answer.", second.System, StringComparison.Ordinal);
        // The first turn had nothing before it.
        Assert.DoesNotContain(secret, app.Model.Requests.Single(r => r.LastUser == secret).System, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoAccounts_HaveNoKnownPassword()
    {
        var response = await app.CreateClient().PostAsync("/api/auth/signin",
            System.Net.Http.Json.JsonContent.Create(new { email = "northwind-ai@demo.agentmarket.local", password = "password123" }));
        await Http.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "invalid_credentials");
    }
}
