using System.Text.RegularExpressions;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>
/// The main pages in Chromium under their Content-Security-Policy (ADR-165): each is served with it, and nothing on them
/// (scripts, the layout's brand style, the playground widget's shadow root, the chat's streaming, seller Markdown) breaks it.
/// </summary>
public class ContentSecurityPolicyBrowserTests(BuyerBrowserApp app) : IClassFixture<BuyerBrowserApp>
{
    const string ViolationMark = "CSP violation:";

    [Fact]
    public async Task MainPages_ReportNoPolicyViolation()
    {
        var chatAgent = await app.PromptAgentAsync();
        app.Model.When("Are you allowed to answer?", FakeReply.Say("Within the policy."));
        var described = await app.PublishedAgentAsync(overrides: new()
        {
            ["description"] = "## What it does\n\nAnswers **politely**. ![diagram](/favicon.svg) ![pixel](https://tracker.example/pixel.gif)",
        });
        await using var context = await app.Browser.NewContextAsync();
        // Init scripts are the browser's own, outside the page's policy: every violation, in the document or a shadow root, is said on the console.
        await context.AddInitScriptAsync($$"""
            window.addEventListener('securitypolicyviolation', e => console.error('{{ViolationMark}} ' + e.violatedDirective + ' ' + e.blockedURI), true);
            """);
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => console.Add($"{message.Type}: {message.Text}");

        await OpenAsync(page, "/");
        // The API reference (Swagger UI) loads its bundle, presets and init script as files: it renders its operations.
        await OpenAsync(page, "/api/docs/index.html");
        await Assertions.Expect(page.Locator(".swagger-ui .info .title")).ToContainTextAsync("AgentMarket API");
        await Assertions.Expect(page.Locator(".swagger-ui .opblock").First).ToBeVisibleAsync();
        await OpenAsync(page, $"/agents/{described.Slug}");
        await Assertions.Expect(page.Locator("section.description img")).ToHaveAttributeAsync("src", "/favicon.svg");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "pixel" })).ToHaveAttributeAsync("href", "https://tracker.example/pixel.gif");
        await Assertions.Expect(page.Locator("#try").GetByLabel("Message")).ToBeVisibleAsync(); // the playground widget mounted

        await app.SignUpAsync(page, "Policy Buyer");
        await OpenAsync(page, $"/agents/{chatAgent.Slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to My Agents" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/configure\\?saved=subscribed$"));
        await page.GetByRole(AriaRole.Navigation, new() { Name = chatAgent.Name, Exact = true }).GetByRole(AriaRole.Link, new() { Name = "Chat" }).ClickAsync();
        await page.GetByLabel("Message").FillAsync("Are you allowed to answer?");
        await page.GetByLabel("Message").PressAsync("Enter");
        await Assertions.Expect(page.Locator(".chat-agent[aria-busy='false'] .chat-text")).ToHaveTextAsync("Within the policy.");
        await OpenAsync(page, page.Url[app.BaseUrl.Length..]);

        await app.SignInAsOperatorAsync(page);
        await OpenAsync(page, "/admin");
        await Assertions.Expect(page.GetByRole(AriaRole.Navigation, new() { Name = "Operator console" })).ToBeVisibleAsync();

        Assert.DoesNotContain(console, line => line.Contains(ViolationMark, StringComparison.Ordinal) || line.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WidgetPreview_ShowsTheBuyersLogoFromTheirOwnSite_WithoutWideningOtherPages()
    {
        const string logoUrl = "https://logo.example/brand.png";
        var agent = await app.PromptAgentAsync();
        await using var context = await app.Browser.NewContextAsync();
        await context.AddInitScriptAsync($$"""
            window.addEventListener('securitypolicyviolation', e => console.error('{{ViolationMark}} ' + e.violatedDirective + ' ' + e.blockedURI), true);
            """);
        // The buyer's site, played by the browser: only a request the page's policy lets out reaches it.
        var logoRequests = 0;
        await context.RouteAsync(logoUrl, route =>
        {
            Interlocked.Increment(ref logoRequests);
            return route.FulfillAsync(new() { ContentType = "image/png", BodyBytes = Images.OnePixelPng });
        });
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => console.Add($"{message.Type}: {message.Text}");
        await app.SignUpAsync(page, "Logo Buyer");
        await OpenAsync(page, $"/agents/{agent.Slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to My Agents" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/configure\\?saved=subscribed$"));
        var configure = page.Url[app.BaseUrl.Length..].Split('?')[0];

        await OpenAsync(page, configure + "/branding");
        await page.GetByLabel("Logo URL").FillAsync(logoUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save branding" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Branding saved." })).ToBeVisibleAsync();
        var otherTab = await page.GotoAsync(page.Url);
        Assert.DoesNotContain("logo.example", await otherTab!.HeaderValueAsync("content-security-policy"), StringComparison.Ordinal);

        await OpenAsync(page, configure + "/widget");
        await page.GetByLabel("Websites (one per line)").FillAsync("https://shop.example");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the widget key" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Open chat: {agent.Name}" })).ToBeVisibleAsync();
        var logo = page.Locator("[data-agentmarket-widget] header img");
        await Assertions.Expect(logo).ToHaveAttributeAsync("src", logoUrl);
        await Assertions.Expect(logo).ToHaveJSPropertyAsync("naturalWidth", 1);
        Assert.True(logoRequests > 0);

        Assert.DoesNotContain(console, line => line.Contains(ViolationMark, StringComparison.Ordinal) || line.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    /// <summary>Goes to <paramref name="path"/> and checks the page came with a policy that allows only this site's scripts.</summary>
    async Task OpenAsync(IPage page, string path)
    {
        var response = await page.GotoAsync(app.BaseUrl + path);
        Assert.NotNull(response);
        var policy = await response.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self';", policy, StringComparison.Ordinal);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }
}
