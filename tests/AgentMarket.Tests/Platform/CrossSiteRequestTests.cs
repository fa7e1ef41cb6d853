using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Widget;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// A change through the API that the sign-in cookie authenticates is refused with 403 <c>cross_site_request</c> when the
/// browser says another origin's page sent it (<c>Sec-Fetch-Site</c>, else <c>Origin</c>), and changes nothing (ADR-157).
/// Tokens are not ambient and pass; so does the widget, which takes other sites' posts by design.
/// </summary>
public class CrossSiteRequestTests(WidgetApp app) : IClassFixture<WidgetApp>
{
    [Theory]
    [InlineData("cross-site")]
    [InlineData("same-site")] // a sibling subdomain's page, which SameSite=Lax lets the cookie accompany
    public async Task CookieDelete_SentByAnotherOrigin_IsRefused_AndTheTokenStillWorks(string fetchSite)
    {
        var user = await app.SignUpAsync();
        var token = await user.CreateTokenAsync();
        var id = await TokenIdAsync(user);

        var refused = await user.Client.SendAsync(Revoke(id, fetchSite: fetchSite));

        await Http.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "cross_site_request");
        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.OK);
        Assert.False((await TokenAsync(user, id)).GetProperty("revoked").GetBoolean());
    }

    [Fact]
    public async Task CookiePost_FromAnotherHostsOrigin_WithoutSecFetchSite_IsRefused_AndChangesNothing()
    {
        var user = await app.SignUpAsync();
        var other = app.CreateClient();
        await Http.AssertStatusAsync(await other.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);

        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/sessions/revoke-others");
        request.Headers.Add("Origin", "https://evil.example");
        await Http.AssertProblemAsync(await user.Client.SendAsync(request), HttpStatusCode.Forbidden, "cross_site_request");

        await Http.AssertStatusAsync(await other.GetAsync("/api/me"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task CookieDelete_FromTheSameOrigin_ByEitherHeader_Passes_WhereAnotherOriginIsRefused()
    {
        var user = await app.SignUpAsync();
        await user.CreateTokenAsync("first");
        await user.CreateTokenAsync("second");
        var ids = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Select(t => t.GetProperty("uuid").GetGuid()).ToList();
        var ownOrigin = app.Server.BaseAddress.GetLeftPart(UriPartial.Authority);

        await Http.AssertProblemAsync(await user.Client.SendAsync(Revoke(ids[0], fetchSite: "cross-site", origin: ownOrigin)), HttpStatusCode.Forbidden, "cross_site_request");
        await Http.AssertStatusAsync(await user.Client.SendAsync(Revoke(ids[0], fetchSite: "same-origin")), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await user.Client.SendAsync(Revoke(ids[1], origin: "null")), HttpStatusCode.Forbidden, "cross_site_request");
        await Http.AssertStatusAsync(await user.Client.SendAsync(Revoke(ids[1], origin: ownOrigin)), HttpStatusCode.NoContent);

        foreach (var id in ids)
        {
            Assert.True((await TokenAsync(user, id)).GetProperty("revoked").GetBoolean());
        }
    }

    [Fact]
    public async Task BearerToken_WithACrossSiteHeader_Passes_WhereTheCookieIsRefused()
    {
        var user = await app.SignUpAsync();
        var client = app.BearerClient(await user.CreateTokenAsync());
        var id = await TokenIdAsync(user);

        await Http.AssertProblemAsync(await user.Client.SendAsync(Revoke(id, fetchSite: "cross-site")), HttpStatusCode.Forbidden, "cross_site_request");
        await Http.AssertStatusAsync(await client.SendAsync(Revoke(id, fetchSite: "cross-site", origin: "https://evil.example")), HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task WidgetSession_OpenedCrossSite_WithTheBuyersCookieAlong_Passes()
    {
        var embedded = await app.EmbeddedAsync();
        var request = WidgetIntents.OpenSessionRequest(embedded.PublishableKey);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");

        var opened = await embedded.Buyer.Client.SendAsync(request);

        var session = await Http.ReadJsonAsync(opened);
        Assert.Equal(WidgetIntents.ShopOrigin, opened.AllowedOrigin());
        Assert.False(string.IsNullOrEmpty(session.GetProperty("token").GetString()));
    }

    static HttpRequestMessage Revoke(Guid id, string? fetchSite = null, string? origin = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/auth/tokens/{id}");
        if (fetchSite is not null)
        {
            request.Headers.Add("Sec-Fetch-Site", fetchSite);
        }
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    static async Task<Guid> TokenIdAsync(TestUser user) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single().GetProperty("uuid").GetGuid();

    static async Task<JsonElement> TokenAsync(TestUser user, Guid id) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/tokens"))).EnumerateArray().Single(t => t.GetProperty("uuid").GetGuid() == id);
}
