using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

public class OperatorBootstrapTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ConfiguredOperator_SignsIn_AndIsAnOperator_AndGetsTokensLikeAnyUser()
    {
        var client = await app.OperatorAsync();
        var me = await Http.ReadJsonAsync(await client.GetAsync("/api/me"));
        Assert.True(me.GetProperty("is_operator").GetBoolean());

        var token = await Http.ReadJsonAsync(await app.CreateClient().PostAsJsonAsync("/api/auth/tokens",
            new { email = AgentMarketApp.OperatorEmail, password = AgentMarketApp.OperatorPassword, name = "ops" }), HttpStatusCode.Created);
        var viaToken = app.BearerClient(token.GetProperty("token").GetString()!);
        await Http.AssertStatusAsync(await viaToken.GetAsync("/api/admin/providers/"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task SetupPage_IsGone_WhenAnOperatorExists()
    {
        var response = await app.CreateClient().GetAsync("/setup");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

/// <summary>A fresh install with no operator configured: the one-time set-up page creates it.</summary>
public sealed class UnconfiguredApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Admin:Email", ""), new("Admin:Password", "")];
}

public class SetupPageTests(UnconfiguredApp app) : IClassFixture<UnconfiguredApp>
{
    [Fact]
    public async Task SetupPage_CreatesTheFirstOperator_Once()
    {
        var client = app.CreateClient();
        var page = await client.GetAsync("/setup");
        await Http.AssertStatusAsync(page, HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        var antiforgery = Forms.HiddenValue(html, "__RequestVerificationToken");

        var post = await client.PostAsync("/setup", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "setup",
            ["__RequestVerificationToken"] = antiforgery,
            ["Input.Name"] = "First Operator",
            ["Input.Email"] = "first-operator@tests.example",
            ["Input.Password"] = "operator password",
        }));
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.EndsWith("/admin", post.Headers.Location?.OriginalString, StringComparison.Ordinal);

        var me = await Http.ReadJsonAsync(await client.GetAsync("/api/me"));
        Assert.True(me.GetProperty("is_operator").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync("/setup")).StatusCode);
    }
}

/// <summary>Admin:Email naming an address someone signed up with: only the configured password makes that account the operator.</summary>
public class ConfiguredOperatorPromotionTests(UnconfiguredApp app) : IClassFixture<UnconfiguredApp>
{
    [Fact]
    public async Task AnExistingAccount_IsPromotedAtStart_OnlyIfItsPasswordIsTheConfiguredOne()
    {
        const string Configured = "configured operator password";
        var squatter = await SignUpAsync("squatted-operator@tests.example", "the squatter's password");
        var owner = await SignUpAsync("real-operator@tests.example", Configured);

        foreach (var email in new[] { "squatted-operator@tests.example", "real-operator@tests.example" })
        {
            await using var restarted = new AnotherProcess(app.Database, [new("Admin:Email", email), new("Admin:Password", Configured)]);
            await Http.AssertStatusAsync(await restarted.CreateClient().GetAsync("/healthz"), HttpStatusCode.OK); // started, not stopped by the squatter
        }

        Assert.False((await Http.ReadJsonAsync(await squatter.GetAsync("/api/me"))).GetProperty("is_operator").GetBoolean());
        await Http.AssertStatusAsync(await squatter.GetAsync("/api/admin/settings"), HttpStatusCode.NotFound);
        Assert.True((await Http.ReadJsonAsync(await owner.GetAsync("/api/me"))).GetProperty("is_operator").GetBoolean());
    }

    async Task<HttpClient> SignUpAsync(string email, string password)
    {
        var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signup", new { email, password, name = "Someone" }), HttpStatusCode.Created);
        return client;
    }
}
