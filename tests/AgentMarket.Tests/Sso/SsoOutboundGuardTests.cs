using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Sso;

/// <summary>The app with plain-http issuers allowed but no outbound allow-list: loopback identity providers stay unreachable.</summary>
public sealed class SsoWithoutAllowListApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Sso:RequireHttps", "false")];
}

public sealed class SsoOutboundGuardTests(SsoWithoutAllowListApp app) : IClassFixture<SsoWithoutAllowListApp>
{
    [Fact]
    public async Task SignIn_ThroughAnIdpOnLoopback_WithoutTheAllowList_IsRefusedByTheOutboundGuard()
    {
        await using var idp = await OidcTestProvider.StartAsync("http://127.0.0.1:1/signin-sso", [new OidcClient("marketplace", "secret")], SsoApp.Accounts);
        using var admin = await app.OperatorAsync();
        var created = await Http.ReadJsonAsync(await admin.PostAsJsonAsync("/api/admin/identity-providers/", new
        {
            name = "Loopback IdP",
            issuer = idp.Issuer,
            client_id = "marketplace",
            client_secret = "secret",
        }), HttpStatusCode.Created);
        using var visitor = app.CreateClient();

        var response = await visitor.GetAsync($"/signin/sso/{created.GetProperty("uuid").GetGuid()}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/signin/sso/refused?reason=idp_blocked", response.Headers.Location?.OriginalString);
        var page = await visitor.GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.Forbidden, page.StatusCode);
        Assert.Contains("outbound network policy", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
