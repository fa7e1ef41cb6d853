using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>An operator in Chromium signs in, opens the platform metrics from the console and sees the drawn charts.</summary>
public class PlatformMetricsBrowserTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task Operator_OpensPlatformMetricsFromTheConsole_AndSeesTheCharts()
    {
        await app.SignUpAsync("Metrics newcomer");
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await app.SignInAsOperatorAsync(page);

        await page.GotoAsync(app.BaseUrl + "/admin");
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Operator console" }).GetByRole(AriaRole.Link, new() { Name = "Platform metrics" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/admin/platform-metrics$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Platform metrics");

        foreach (var chart in new[] { "GMV per day", "Credits spent on runs and subscriptions per day", "Runs per day", "Organizations that ran an agent, per day", "New sign-ups per day" })
        {
            var svg = Chart(page, chart);
            await Assertions.Expect(svg).ToBeVisibleAsync();
            await Assertions.Expect(svg.Locator("rect.bar")).ToHaveCountAsync(30);
        }
        // Today's sign-ups are drawn: the chart's description counts them.
        await Assertions.Expect(Chart(page, "New sign-ups per day")).ToHaveAccessibleNameAsync(new Regex("sign-ups? from .* the most, [1-9]"));

        await page.GetByRole(AriaRole.Combobox, new() { Name = "Period" }).SelectOptionAsync("7");
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("days=7"));
        // Waits for the new page's chart, rather than counting whatever is drawn at the moment the address changed.
        await Assertions.Expect(Chart(page, "Runs per day").Locator("rect.bar")).ToHaveCountAsync(7);
    }

    /// <summary>The chart whose accessible name (its title, then its description) starts with <paramref name="title"/>.</summary>
    static ILocator Chart(IPage page, string title) =>
        page.GetByRole(AriaRole.Img, new() { NameRegex = new Regex("^" + Regex.Escape(title) + " ") });
}
