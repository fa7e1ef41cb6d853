using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

public class SignUpJourneyTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task Visitor_SignsUpFromTheHomePage_AndLandsOnTheDashboard()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.BaseUrl + "/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("The AI Agent Marketplace");

        await page.GetByRole(AriaRole.Link, new() { Name = "Sign up" }).ClickAsync();
        await page.GetByLabel("Name").FillAsync("Grace Hopper");
        await page.GetByLabel("Email").FillAsync($"grace-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();

        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Grace Hopper" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Grace Hopper's Organization")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignUp_WithAShortPassword_ShowsTheErrorNextToTheField()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync("Shorty");
        await page.GetByLabel("Email").FillAsync($"short-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("short");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();

        await Assertions.Expect(page.GetByText("Use at least 10 characters.")).ToBeVisibleAsync();
        Assert.EndsWith("/signup", page.Url, StringComparison.Ordinal);
    }
}
