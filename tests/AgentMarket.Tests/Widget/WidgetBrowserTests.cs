using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Widget;

/// <summary>
/// The widget in Chromium on a page of another origin: one script tag adds a branded launcher and chat window that
/// streams answers, keyboard accessible and untouched by the host page's CSS; on an origin the key does not allow, nothing.
/// </summary>
public class WidgetBrowserTests(WidgetBrowserApp app) : IClassFixture<WidgetBrowserApp>
{
    // The host page does its worst to everything it can select.
    const string HostileCss = "* { color: red !important; font-size: 40px !important; font-family: serif !important; background: yellow !important; }";

    [Fact]
    public async Task OneScriptTag_OnAnAllowedOrigin_AddsABrandedChat_ThatStreams_AndIsKeyboardAccessible_AndIsolated()
    {
        var (subscribed, key) = await EmbeddedAsync(app.Shop.Origin, new
        {
            name = "Shop helper",
            branding = new { brand_color = "#0a7d33", welcome_message = "Hi! Ask me about your order." },
            widget = new { position = "bottom_left", theme = "dark" },
        });
        const string answer = "Your parcel ships tomorrow morning, a few characters at a time.";
        app.Model.When("Where is my parcel?", FakeReply.Say(answer) with { ChunkSize = 4, ChunkDelay = TimeSpan.FromMilliseconds(60) });
        await using var context = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1200, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.Shop.Page("shop.html", HostPage(key)));

        var launcher = page.GetByRole(AriaRole.Button, new() { Name = "Open chat: Shop helper" });
        await Assertions.Expect(launcher).ToBeVisibleAsync();
        Assert.Equal("rgb(10, 125, 51)", await Style(launcher, "background-color"));
        var box = (await launcher.BoundingBoxAsync())!;
        Assert.True(box.X < 600, "bottom_left puts the launcher on the left");
        Assert.True(box.Y > 600, "and at the bottom");
        await Assertions.Expect(launcher).ToHaveAttributeAsync("aria-expanded", "false");

        // Keyboard only: focus the launcher, open with Enter; focus goes into the window.
        await launcher.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Shop helper" });
        await Assertions.Expect(dialog).ToBeVisibleAsync();
        await Assertions.Expect(launcher).ToHaveAttributeAsync("aria-expanded", "true");
        var message = dialog.GetByLabel("Message");
        await Assertions.Expect(message).ToBeFocusedAsync();
        var welcome = dialog.GetByRole(AriaRole.Log).Locator(".msg.agent").First;
        await Assertions.Expect(welcome).ToHaveTextAsync("Hi! Ask me about your order.");

        // The host page's CSS does not reach in: the widget's own font, size and dark colors.
        Assert.Equal("14px", await Style(welcome, "font-size"));
        Assert.DoesNotContain("serif", (await Style(welcome, "font-family")).Replace("sans-serif", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Equal("rgb(230, 237, 243)", await Style(welcome, "color"));
        Assert.Equal("rgb(22, 25, 29)", await Style(dialog, "background-color"));
        // ...while the host page itself is as hostile as it asked.
        Assert.Equal("rgb(255, 0, 0)", await Style(page.Locator("h1"), "color"));

        await message.FillAsync("Where is my parcel?");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(dialog.Locator(".msg.user")).ToHaveTextAsync("Where is my parcel?");
        var streaming = dialog.Locator(".msg.agent[aria-busy='true']");
        await Assertions.Expect(streaming).ToHaveTextAsync(new Regex("^Your"));
        Assert.NotEqual(answer, await streaming.TextContentAsync());
        await Assertions.Expect(dialog.Locator(".msg.agent[aria-busy='false']")).ToHaveTextAsync(answer);
        Assert.Equal("rgb(255, 255, 255)", await Style(dialog.Locator(".msg.user"), "color"));
        // The title is readable on the brand colour too (the chosen on-brand colour, not the body's dark text).
        Assert.Equal("rgb(255, 255, 255)", await Style(dialog.Locator("header h2"), "color"));

        // A focus trap: Tab and Shift+Tab stay inside the window; Escape closes it and returns to the launcher.
        await Assertions.Expect(message).ToBeFocusedAsync();
        var close = dialog.GetByRole(AriaRole.Button, new() { Name = "Close chat" });
        var send = dialog.GetByRole(AriaRole.Button, new() { Name = "Send" });
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(send).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Tab");
        await Assertions.Expect(close).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Shift+Tab");
        await Assertions.Expect(send).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(dialog).ToBeHiddenAsync();
        await Assertions.Expect(launcher).ToBeFocusedAsync();
        await Assertions.Expect(launcher).ToHaveAttributeAsync("aria-expanded", "false");

        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal("widget", run.Door);
        Assert.Equal(answer, run.Output);

        // The conversation continues on the next page view of the same site (the visitor's ids are in its storage), and
        // the window shows it again, in order, below the welcome.
        await page.ReloadAsync();
        await launcher.ClickAsync();
        await Assertions.Expect(dialog.GetByRole(AriaRole.Log).Locator(".msg")).ToHaveTextAsync(["Hi! Ask me about your order.", "Where is my parcel?", answer]);
        await dialog.GetByLabel("Message").FillAsync("And after that?");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(dialog.Locator(".msg.agent[aria-busy='false']").Last).ToHaveTextAsync("I am the default answer.");
        var runs = await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config);
        Assert.Equal(2, runs.Count);
        Assert.Single(runs.Select(r => r.SessionId).Distinct());
    }

    [Fact]
    public async Task TheSamePage_OnAnOriginTheKeyDoesNotAllow_GetsNoSession_AndNoWidget()
    {
        var (subscribed, key) = await EmbeddedAsync(app.Shop.Origin);
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var refused = page.WaitForConsoleMessageAsync(new() { Predicate = m => m.Text.StartsWith("Chat widget: no session", StringComparison.Ordinal) });
        var failed = new TaskCompletionSource<IRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
        page.RequestFailed += (_, request) =>
        {
            if (request.Url.EndsWith("/api/widget/sessions", StringComparison.Ordinal))
            {
                failed.TrySetResult(request);
            }
        };
        await page.GotoAsync(app.Elsewhere.Page("shop.html", HostPage(key)));

        // The browser refuses the cross-origin call (no CORS answer for this origin), and the widget says why in the console.
        await failed.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await refused;
        await Assertions.Expect(page.Locator("[data-agentmarket-widget]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Open chat") })).ToHaveCountAsync(0);
        Assert.Empty(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
    }

    [Fact]
    public async Task WidgetTab_CreatesTheKey_ShowsTheEmbedCode_AndPreviewsTheLiveWidget()
    {
        var agent = await app.PromptAgentAsync();
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync("Widget Buyer");
        await page.GetByLabel("Email").FillAsync($"widget-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");
        await page.GotoAsync($"{app.BaseUrl}/agents/{agent.Slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to My Agents" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/configure\\?saved=subscribed$"));
        await page.GetByRole(AriaRole.Navigation, new() { Name = $"Configure {agent.Name}", Exact = true }).GetByRole(AriaRole.Link, new() { Name = "Widget" }).ClickAsync();

        await page.GetByLabel("Websites (one per line)").FillAsync(app.Shop.Origin);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create the widget key" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Widget settings saved." })).ToBeVisibleAsync();
        var embed = await page.Locator("#widget-embed-code").TextContentAsync();
        var key = Regex.Match(embed!, "data-agent-key=\"(am_pub_[0-9A-Za-z]+)\"").Groups[1].Value;
        Assert.Equal($"<script src=\"{app.BaseUrl}/widget.js\" data-agent-key=\"{key}\" async></script>", embed);
        await Assertions.Expect(page.GetByLabel("Websites the widget works on (one per line)")).ToHaveValueAsync(app.Shop.Origin);

        // The preview is the widget itself, running on the marketplace's own page.
        await page.GetByRole(AriaRole.Button, new() { Name = $"Open chat: {agent.Name}" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = agent.Name });
        await dialog.GetByLabel("Message").FillAsync("Does the preview work?");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(dialog.Locator(".msg.agent[aria-busy='false']")).ToHaveTextAsync("I am the default answer.");

        // The embed code works on the website listed.
        var shop = await context.NewPageAsync();
        await shop.GotoAsync(app.Shop.Page("tab.html", HostPage(key)));
        await Assertions.Expect(shop.GetByRole(AriaRole.Button, new() { Name = $"Open chat: {agent.Name}" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task ThePlayground_IsTheWidgetInline_ChargingASignedInMember_AndSayingWhenCreditsRunShort()
    {
        var agent = await app.PromptAgentAsync();
        var expensive = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 500 });
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(app.BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync("Playground Member");
        await page.GetByLabel("Email").FillAsync($"playground-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");

        // In place on the agent page, not behind a floating launcher.
        await page.GotoAsync($"{app.BaseUrl}/agents/{agent.Slug}#try");
        var chat = page.Locator("#try").GetByRole(AriaRole.Region, new() { Name = agent.Name });
        await Assertions.Expect(chat).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Open chat") })).ToHaveCountAsync(0);
        await chat.GetByLabel("Message").FillAsync("Hello from the agent page");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(chat.Locator(".msg.agent[aria-busy='false']")).ToHaveTextAsync("I am the default answer.");
        await Assertions.Expect(chat.Locator(".meta")).ToHaveTextAsync("5 credits");

        await page.GotoAsync($"{app.BaseUrl}/agents/{expensive.Slug}#try");
        chat = page.Locator("#try").GetByRole(AriaRole.Region, new() { Name = expensive.Name });
        await chat.GetByLabel("Message").FillAsync("Can I afford you?");
        await chat.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var alert = chat.GetByRole(AriaRole.Alert);
        await Assertions.Expect(alert).ToContainTextAsync("This run needs 500 credits; 345 are available.");
        // The Free plan cannot buy top-ups: the way to more credits is a better plan.
        await Assertions.Expect(alert.GetByRole(AriaRole.Link, new() { Name = "Upgrade your plan for more credits" })).ToHaveAttributeAsync("href", "/pricing");
        await Assertions.Expect(chat.Locator(".msg.agent")).ToHaveCountAsync(0);
    }

    string HostPage(string key) => $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>A shop</title><style>{HostileCss}</style></head>
        <body><h1>A shop on another origin</h1>
        <script src="{app.BaseUrl}/widget.js" data-agent-key="{key}" async></script>
        </body></html>
        """;

    async Task<(Subscribed Subscribed, string Key)> EmbeddedAsync(string origin, object? configuration = null)
    {
        var subscribed = await app.SubscribedAsync();
        if (configuration is not null)
        {
            await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/", configuration), HttpStatusCode.OK);
        }
        var (_, key) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { kind = "publishable", allowed_origins = new[] { origin } });
        return (subscribed, key);
    }

    static Task<string> Style(ILocator element, string property) =>
        element.EvaluateAsync<string>("(element, property) => getComputedStyle(element).getPropertyValue(property)", property);
}
