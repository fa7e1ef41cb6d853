using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Keys.Pages;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace AgentMarket.Tests.Buyer;

/// <summary>The API keys page: a new secret is shown once with snippets that use it; rotation and revocation take effect.</summary>
public class KeysPageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task CreatingAKey_RedirectsToThePage_ThatShowsItsSecretOnce_InSnippetsThatRunTheAgent()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";
        var tomorrow = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime).AddDays(1);

        var created = await subscribed.Buyer.Client.SubmitAsync(url, "create-key", new()
        {
            ["key_name"] = "page key",
            ["budget_credits"] = "100",
            ["rate_limit_per_minute"] = "30",
            ["expires_on"] = tomorrow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        });

        // Post/redirect/get: a refresh of what the browser shows next reads the page again instead of posting the form again.
        Assert.Equal(url, PageForms.AssertRedirect(created, url));
        var cookie = Assert.Single(created.Headers.GetValues("Set-Cookie"), c => c.StartsWith(KeyShownOnce.CookieName + "=", StringComparison.Ordinal));
        Assert.Contains($"path={url}", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("max-age=300", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(PageForms.SecretKey(), cookie);

        var shown = await subscribed.Buyer.Client.GetAsync(url);
        await Http.AssertStatusAsync(shown, HttpStatusCode.OK);
        Assert.Contains("no-store", shown.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var html = await shown.HtmlAsync();
        var secret = PageForms.Marked(html, "data-new-key");
        Assert.Matches(PageForms.SecretKey(), secret);
        Assert.Contains("Your new key “page key”", html, StringComparison.Ordinal);
        foreach (var snippet in new[] { "curl", "python", "javascript" })
        {
            var code = PageForms.Marked(html, $"data-snippet=\"{snippet}\"");
            Assert.Contains(secret, code, StringComparison.Ordinal);
            Assert.Contains($"/api/agents/{subscribed.Config}/run/", code, StringComparison.Ordinal);
        }

        // The other doors too: MCP clients, the OpenAI SDK (the agent's slug as the model) and Langflow clients.
        Assert.Contains($"/api/v1/run/{subscribed.Config}", html, StringComparison.Ordinal);
        var claudeDesktop = PageForms.Marked(html, "data-snippet=\"door-0\"");
        Assert.Contains("/mcp", claudeDesktop, StringComparison.Ordinal);
        Assert.Contains($"Bearer {secret}", claudeDesktop, StringComparison.Ordinal);
        Assert.Contains($"model=\"{subscribed.Agent.Slug}\"", PageForms.Marked(html, "data-snippet=\"door-3\""), StringComparison.Ordinal);

        var run = await Http.ReadJsonAsync(await app.BearerClient(secret).RunAsync(subscribed.Config, "Hello from the new key"));
        Assert.Equal(5, run.GetProperty("credits_charged").GetInt64());

        // Read once: the page deleted the cookie, so reading it again (a refresh) shows the key but not its secret.
        var later = await subscribed.Buyer.Client.HtmlAsync(url);
        Assert.DoesNotContain(secret, later, StringComparison.Ordinal);
        Assert.DoesNotContain("data-new-key", later, StringComparison.Ordinal);
        Assert.Contains("YOUR_API_KEY", PageForms.Marked(later, "data-snippet=\"curl\""), StringComparison.Ordinal);
        Assert.Contains("page key", later, StringComparison.Ordinal);
        Assert.Contains("5 / 100", later, StringComparison.Ordinal);
        Assert.Contains("30/min", later, StringComparison.Ordinal);
        Assert.Contains(tomorrow.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + " 00:00", later, StringComparison.Ordinal);

        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.Single(keys.GetProperty("items").EnumerateArray(), k => k.GetProperty("name").GetString() == "page key");
    }

    [Fact]
    public async Task TheShownOnceCookie_ShowsItsSecretOnlyOnTheKeysPageOfItsSubscription_ForItsUser_AndNotWhenTamperedWith()
    {
        var (config, other, user) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var written = new DefaultHttpContext { RequestServices = app.Services };
        KeyShownOnce.Write(written, new(config, user, Guid.NewGuid(), "key", "am_live_secret", null, Rotated: false));
        var setCookie = written.Response.Headers.SetCookie.ToString();
        Assert.DoesNotContain("am_live_secret", setCookie, StringComparison.Ordinal);
        var value = setCookie[(KeyShownOnce.CookieName.Length + 1)..setCookie.IndexOf(';', StringComparison.Ordinal)];

        KeyShownOnce.Secret? Take(Guid forConfig, Guid forUser, string cookie)
        {
            var reading = new DefaultHttpContext { RequestServices = app.Services };
            reading.Request.Headers.Cookie = $"{KeyShownOnce.CookieName}={cookie}";
            var secret = KeyShownOnce.Take(reading, forConfig, forUser);
            Assert.Contains($"{KeyShownOnce.CookieName}=;", reading.Response.Headers.SetCookie.ToString(), StringComparison.Ordinal);
            return secret;
        }

        Assert.Null(Take(other, user, value));
        Assert.Null(Take(config, Guid.NewGuid(), value));
        Assert.Null(Take(config, user, value[..^4] + "AAAA"));
        Assert.Equal("am_live_secret", Take(config, user, value)?.Value);
    }

    [Fact]
    public async Task InvalidKeyFields_AreRefused_WithTheReason_AndNothingIsCreated()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";

        var notANumber = await subscribed.Buyer.Client.SubmitAsync(url, "create-key", new() { ["key_name"] = "bad", ["budget_credits"] = "lots" });
        Assert.Contains("Enter a whole number of credits from 1 to 1,000,000,000, or leave it empty.", await notANumber.HtmlAsync(), StringComparison.Ordinal);
        var tooFast = await subscribed.Buyer.Client.SubmitAsync(url, "create-key", new() { ["key_name"] = "bad", ["rate_limit_per_minute"] = "5000000" });
        Assert.Contains("Enter a whole number from 1 to 1,000,000, or leave it empty.", await tooFast.HtmlAsync(), StringComparison.Ordinal);
        var past = await subscribed.Buyer.Client.SubmitAsync(url, "create-key", new() { ["key_name"] = "bad", ["expires_on"] = "2020-01-01" });
        Assert.Contains("The expiry must be in the future.", await past.HtmlAsync(), StringComparison.Ordinal);

        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.Equal(1, keys.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ABudgetOrRateOutsideTheApiLimits_SaysTheAllowedRange_NextToItsField_AndKeepsTheOtherFields()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";

        var refused = await subscribed.Buyer.Client.SubmitAsync(url, "create-key",
            new() { ["key_name"] = "out of range", ["budget_credits"] = "-5", ["rate_limit_per_minute"] = "100000000" });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        // The ranges are the API's: POST /api/agent-api-keys/ refuses the same values.
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PostAsJsonAsync("/api/agent-api-keys/",
            new { config = subscribed.Config, name = "api", budget_credits = 1_000_000_001 }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PostAsJsonAsync("/api/agent-api-keys/",
            new { config = subscribed.Config, name = "api", rate_limit_per_minute = 0 }), HttpStatusCode.BadRequest, "validation_failed");
        foreach (var (id, message) in new[]
        {
            ("key-budget", "Enter a whole number of credits from 1 to 1,000,000,000, or leave it empty."),
            ("key-rate", "Enter a whole number from 1 to 1,000,000, or leave it empty."),
        })
        {
            Assert.Matches($"<input id=\"{id}\"[^>]*aria-invalid=\"true\"[^>]*aria-describedby=\"{id}-error {id}-help\"", html);
            Assert.Contains($"<small id=\"{id}-error\" class=\"validation-message\">{message}</small>", html, StringComparison.Ordinal);
        }
        Assert.DoesNotMatch("<input id=\"key-name\"[^>]*aria-invalid", html);
        Assert.Contains("value=\"out of range\"", html, StringComparison.Ordinal);
        Assert.Contains("The key was not created: correct the marked fields.", html, StringComparison.Ordinal);
        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.DoesNotContain(keys.GetProperty("items").EnumerateArray(), k => k.GetProperty("name").GetString() == "out of range");
    }

    [Fact]
    public async Task RotatingAKey_RedirectsToThePage_ThatShowsTheNewSecretOnce_AndUntilWhenTheOldOneWorks()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";
        var keyId = await KeyIdAsync(subscribed);

        var rotated = await subscribed.Buyer.Client.SubmitAsync(url, "key-action", new() { ["rotate"] = keyId.ToString() });

        Assert.Equal(url, PageForms.AssertRedirect(rotated, url));
        var html = await subscribed.Buyer.Client.HtmlAsync(url);
        var secret = PageForms.Marked(html, "data-new-key");
        Assert.NotEqual(subscribed.Key, secret);
        Assert.Contains("The previous secret keeps working until", html, StringComparison.Ordinal);
        Assert.Contains("Earlier secrets work until", html, StringComparison.Ordinal); // in the key's row, after the secret is gone
        await Http.AssertStatusAsync(await app.BearerClient(secret).RunAsync(subscribed.Config, "new"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "old"), HttpStatusCode.OK);
        Assert.DoesNotContain(secret, await subscribed.Buyer.Client.HtmlAsync(url), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokingAKey_StopsItAtOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";
        var keyId = await KeyIdAsync(subscribed);

        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(url, "key-action", new() { ["revoke"] = keyId.ToString() }), $"{url}?done=revoked");

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hi"), HttpStatusCode.Unauthorized, "unauthorized");
        var html = await subscribed.Buyer.Client.HtmlAsync($"{url}?done=revoked");
        Assert.Contains("The key was revoked", html, StringComparison.Ordinal);
        Assert.Contains(">revoked<", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeyRevokedAfterThePageWasRead_IsSaidSo_WhenRotatedOrRevokedFromThatPage_AndNothingChanges()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/keys";
        var keyId = await KeyIdAsync(subscribed);
        var page = await subscribed.Buyer.Client.HtmlAsync(url);
        Assert.Contains($"value=\"{keyId}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.DeleteAsync($"/api/agent-api-keys/{keyId}"), HttpStatusCode.NoContent);

        // The page still shows the key as active: its Rotate and Revoke post the page's one form, which the page still has.
        foreach (var action in new[] { "rotate", "revoke" })
        {
            var response = await subscribed.Buyer.Client.SubmitFromPageAsync(url, page, "key-action", new() { [action] = keyId.ToString() });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.HtmlAsync();
            Assert.Contains("That key was revoked meanwhile: nothing changed.", html, StringComparison.Ordinal);
            Assert.DoesNotContain("data-new-key", html, StringComparison.Ordinal);
        }
        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.Equal(1, keys.GetProperty("total").GetInt32());
        Assert.True(keys.GetProperty("items")[0].GetProperty("revoked").GetBoolean());
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hi"), HttpStatusCode.Unauthorized, "unauthorized");

        // A key of another organization's agent is not this page's to touch.
        var stranger = await app.SubscribedAsync();
        var theirs = await KeyIdAsync(stranger);
        var refused = await subscribed.Buyer.Client.SubmitAsync(url, "key-action", new() { ["revoke"] = theirs.ToString() });
        Assert.Contains("That key is not a key of this agent (any more): nothing changed.", await refused.HtmlAsync(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await stranger.KeyClient.RunAsync(stranger.Config, "still works"), HttpStatusCode.OK);
    }

    static async Task<Guid> KeyIdAsync(Subscribed subscribed) =>
        (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}")))
            .GetProperty("items")[0].GetProperty("uuid").GetGuid();
}
