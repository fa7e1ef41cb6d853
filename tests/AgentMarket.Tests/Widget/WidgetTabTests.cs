using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Widget;

/// <summary>Configure → Widget: create the widget key, see the embed code again on every visit, edit the websites.</summary>
public partial class WidgetTabTests(WidgetApp app) : IClassFixture<WidgetApp>
{
    [Fact]
    public async Task Manager_CreatesTheWidgetKey_SeesTheEmbedCodeOnEveryVisit_AndEditsTheWebsites()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/widget";
        var client = subscribed.Buyer.Client;
        Assert.Contains("Create the widget key", await client.HtmlAsync(url), StringComparison.Ordinal);

        var invalid = await client.SubmitAsync(url, "create-widget-key", new() { ["allowed_origins"] = "https://*.shop.example" });
        Assert.Equal(HttpStatusCode.OK, invalid.StatusCode);
        Assert.Contains("is not an origin like https://shop.example.com", await invalid.HtmlAsync(), StringComparison.Ordinal);

        PageForms.AssertRedirect(await client.SubmitAsync(url, "create-widget-key", new() { ["allowed_origins"] = "https://shop.example\r\nhttps://Blog.Shop.Example/" }), $"{url}?saved=widget");
        var html = await client.HtmlAsync(url);
        var key = PublishableKey().Match(html).Value;
        Assert.Matches("^am_pub_", key);
        Assert.Contains($"<script src=\"http://localhost/widget.js\" data-agent-key=\"{key}\" async></script>", html, StringComparison.Ordinal);
        Assert.Contains("https://shop.example\nhttps://blog.shop.example</textarea>", html, StringComparison.Ordinal);
        // The preview is the widget itself, on this page.
        Assert.Contains($"<script src=\"/widget.js\" data-agent-key=\"{key}\" async></script>", html, StringComparison.Ordinal);
        // The key the page shows is the one that works.
        await app.OpenSessionAsync(key, "https://blog.shop.example");

        PageForms.AssertRedirect(await client.SubmitAsync(url, "widget-origins", new() { ["allowed_origins"] = "https://shop.example:8443" }), $"{url}?saved=widget");
        Assert.Contains("https://shop.example:8443</textarea>", await client.HtmlAsync(url), StringComparison.Ordinal);
        await app.OpenSessionAsync(key, "https://shop.example:8443");
        await Http.AssertProblemAsync(await app.CreateClient().SendAsync(WidgetIntents.OpenSessionRequest(key, "https://blog.shop.example")), HttpStatusCode.Forbidden, "origin_not_allowed");

        var empty = await client.SubmitAsync(url, "widget-origins", new() { ["allowed_origins"] = "" });
        Assert.Contains("needs at least one allowed origin", await empty.HtmlAsync(), StringComparison.Ordinal);
        Assert.Equal(key, PublishableKey().Match(await client.HtmlAsync(url)).Value);
    }

    [Fact]
    public async Task AMember_SeesTheEmbedCode_ButCannotCreateKeysOrChangeWebsites()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/widget";
        var member = await app.JoinAsync(subscribed.Buyer, "member");
        Assert.DoesNotContain("value=\"create-widget-key\"", await member.Client.HtmlAsync(url), StringComparison.Ordinal);

        var (_, key) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { kind = "publishable", allowed_origins = new[] { WidgetIntents.ShopOrigin } });
        var page = await member.Client.GetAsync(url);
        var html = await page.HtmlAsync();
        Assert.Contains($"data-agent-key=\"{key}\"", html, StringComparison.Ordinal);
        var forged = await member.Client.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "widget-origins", ["__RequestVerificationToken"] = Forms.HiddenValue(html, "__RequestVerificationToken"), ["allowed_origins"] = "https://evil.example",
        }));
        Assert.NotEqual(HttpStatusCode.Redirect, forged.StatusCode);
        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        var publishable = keys.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == "publishable");
        Assert.Equal([WidgetIntents.ShopOrigin], publishable.GetProperty("allowed_origins").EnumerateArray().Select(o => o.GetString()));
    }

    [GeneratedRegex("am_pub_[0-9A-Za-z]+")]
    private static partial Regex PublishableKey();
}
