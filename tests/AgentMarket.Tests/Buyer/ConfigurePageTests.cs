using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Buyer;

/// <summary>The Configure tabs post through the subscription service, with the API's validation, and redirect with a message.</summary>
public class ConfigurePageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task Persona_SavesTheDeclaredFields_AndTheNameInMyAgents()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/persona";
        var form = await subscribed.Buyer.Client.HtmlAsync(url);
        Assert.Contains("System prompt", form, StringComparison.Ordinal);
        Assert.Contains("<textarea id=\"field-system_prompt\"", form, StringComparison.Ordinal);

        var saved = await subscribed.Buyer.Client.SubmitAsync(url, "persona", new() { ["config_name"] = "Captain Byte", ["field-system_prompt"] = "You are Captain Byte." });

        PageForms.AssertRedirect(saved, $"{url}?saved=persona");
        var config = await ConfigAsync(subscribed);
        Assert.Equal("Captain Byte", config.GetProperty("name").GetString());
        Assert.Equal("You are Captain Byte.", SystemPrompt(config).GetString());
        Assert.Contains("Persona saved.", await subscribed.Buyer.Client.HtmlAsync($"{url}?saved=persona"), StringComparison.Ordinal);

        // An emptied field goes back to the provider's default.
        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "persona", new() { ["config_name"] = "Captain Byte", ["field-system_prompt"] = "" }), url);
        Assert.Equal(JsonValueKind.Null, SystemPrompt(await ConfigAsync(subscribed)).ValueKind);
    }

    [Fact]
    public async Task Branding_Saves_AndARefusedLogoKeepsWhatWasTyped()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/branding";

        var refused = await subscribed.Buyer.Client.SubmitAsync(url, "branding", new() { ["brand_color"] = "#123456", ["logo_url"] = "http://plain.example/logo.png", ["welcome_message"] = "Ahoy" });
        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        Assert.Contains("Use an https:// image address.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"http://plain.example/logo.png\"", html, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await ConfigAsync(subscribed)).GetProperty("branding").GetProperty("logo_url").ValueKind);

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "branding",
            new() { ["brand_color"] = "#123456", ["logo_url"] = "https://cdn.example/logo.png", ["welcome_message"] = "Ahoy" }), $"{url}?saved=branding");
        var branding = (await ConfigAsync(subscribed)).GetProperty("branding");
        Assert.Equal(("#123456", "https://cdn.example/logo.png", "Ahoy"),
            (branding.GetProperty("brand_color").GetString(), branding.GetProperty("logo_url").GetString(), branding.GetProperty("welcome_message").GetString()));
    }

    [Fact]
    public async Task Widget_SavesPositionAndTheme()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/widget";
        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "widget", new() { ["widget_position"] = "bottom_left", ["widget_theme"] = "dark" }), $"{url}?saved=widget");
        var widget = (await ConfigAsync(subscribed)).GetProperty("widget");
        Assert.Equal(("bottom_left", "dark"), (widget.GetProperty("position").GetString(), widget.GetProperty("theme").GetString()));
    }

    [Fact]
    public async Task Advanced_StoresTheModelKeyWriteOnly_AndRemovesIt()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/configure/advanced";
        const string secret = "sk-buyers-own-key-5f1c";
        Assert.Contains("No key is stored.", await subscribed.Buyer.Client.HtmlAsync(url), StringComparison.Ordinal);

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "model",
            new() { ["model_base_url"] = "https://models.example/v1", ["model_name"] = "their-model", ["model_api_key"] = secret }), $"{url}?saved=model");

        var html = await subscribed.Buyer.Client.HtmlAsync(url);
        Assert.Contains("A key is stored", html, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        var model = (await ConfigAsync(subscribed)).GetProperty("model");
        Assert.Equal(("https://models.example/v1", "their-model", true),
            (model.GetProperty("base_url").GetString(), model.GetProperty("model").GetString(), model.GetProperty("has_api_key").GetBoolean()));

        // Saving again without a key keeps the stored one.
        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "model",
            new() { ["model_base_url"] = "https://models.example/v1", ["model_name"] = "another-model", ["model_api_key"] = "" }), url);
        Assert.True((await ConfigAsync(subscribed)).GetProperty("model").GetProperty("has_api_key").GetBoolean());

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "remove-model-key"), $"{url}?saved=model-key-removed");
        Assert.False((await ConfigAsync(subscribed)).GetProperty("model").GetProperty("has_api_key").GetBoolean());
    }

    [Fact]
    public async Task Overview_OffersANewVersion_AnnouncesAPriceIncrease_AndUpgrades()
    {
        var agent = await app.PromptAgentAsync();
        var subscribed = await app.SubscribedAsync(agent);
        await agent.Seller.ImportExampleAsync(agent.AgentId, version: "9.0.0", changelog: "A new way to answer.");
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/",
            new { pricing = new { model = "fixed_credits", credits_per_run = 9 } }), HttpStatusCode.OK);
        var url = $"/my-agents/{subscribed.Config}/configure";

        var html = await subscribed.Buyer.Client.HtmlAsync(url);
        Assert.Contains("Version 9.0.0 is available.", html, StringComparison.Ordinal);
        Assert.Equal("5 credits/run", PageForms.Marked(html, "data-config-price"));
        Assert.Matches("this agent costs 9 credits/run", PageForms.Marked(html, "data-price-notice"));
        // A second increase a day later: the notice still announces the first, on its date; the second follows with its own notice.
        var first = (await ConfigAsync(subscribed)).GetProperty("pricing").GetProperty("upcoming_from").GetDateTime();
        app.Clock.Advance(TimeSpan.FromDays(1));
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/",
            new { pricing = new { model = "fixed_credits", credits_per_run = 20 } }), HttpStatusCode.OK);
        var pricing = (await ConfigAsync(subscribed)).GetProperty("pricing");
        Assert.Equal((9L, first), (pricing.GetProperty("upcoming").GetProperty("credits_per_run").GetInt64(), pricing.GetProperty("upcoming_from").GetDateTime()));
        Assert.Matches("this agent costs 9 credits/run", PageForms.Marked(await subscribed.Buyer.Client.HtmlAsync(url), "data-price-notice"));

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "upgrade"), $"{url}?saved=upgraded");
        Assert.Equal("9.0.0", (await ConfigAsync(subscribed)).GetProperty("version").GetProperty("effective").GetString());
        Assert.DoesNotContain("is available.", await subscribed.Buyer.Client.HtmlAsync(url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unsubscribe_EndsTheSubscription_AndRevokesItsKeys()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still here?"), HttpStatusCode.OK);

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync($"/my-agents/{subscribed.Config}/configure", "unsubscribe"), "/my-agents?removed=1");

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still here?"), HttpStatusCode.Unauthorized);
        Assert.Equal("terminated", (await ConfigAsync(subscribed)).GetProperty("state").GetString());
        await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure", HttpStatusCode.NotFound);
        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.All(keys.GetProperty("items").EnumerateArray(), key => Assert.True(key.GetProperty("revoked").GetBoolean()));
        Assert.Contains("its API keys were revoked", await subscribed.Buyer.Client.HtmlAsync("/my-agents?removed=1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMember_CannotChangeSettings_ThroughAForgedPost()
    {
        var subscribed = await app.SubscribedAsync();
        var member = await app.JoinAsync(subscribed.Buyer, "member");
        var url = $"/my-agents/{subscribed.Config}/configure/widget";
        var page = await member.Client.GetAsync(url);
        var token = Forms.HiddenValue(await page.Content.ReadAsStringAsync(), "__RequestVerificationToken");

        var forged = await member.Client.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "widget", ["__RequestVerificationToken"] = token, ["widget_position"] = "bottom_left", ["widget_theme"] = "dark",
        }));

        Assert.NotEqual(HttpStatusCode.Redirect, forged.StatusCode);
        Assert.Equal("bottom_right", (await ConfigAsync(subscribed)).GetProperty("widget").GetProperty("position").GetString());
    }

    static JsonElement SystemPrompt(JsonElement config) =>
        config.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("key").GetString() == "system_prompt").GetProperty("value");

    static async Task<JsonElement> ConfigAsync(Subscribed subscribed) =>
        await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
}
