using System.Net;
using AgentMarket.Platform.Seed;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentMarket.Tests.Platform;

/// <summary>The app as the README's first command starts it: with demo data.</summary>
public sealed class DemoApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Seed:Demo", "true")];
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
    public async Task DemoAccounts_HaveNoKnownPassword()
    {
        var response = await app.CreateClient().PostAsync("/api/auth/signin",
            System.Net.Http.Json.JsonContent.Create(new { email = "northwind-ai@demo.agentmarket.local", password = "password123" }));
        await Http.AssertProblemAsync(response, HttpStatusCode.Unauthorized, "invalid_credentials");
    }
}
