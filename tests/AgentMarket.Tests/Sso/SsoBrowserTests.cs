using System.Net;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Sso;

/// <summary>
/// Single sign-on end to end in Chromium against a real OpenID Connect provider (npm oidc-provider on 127.0.0.1):
/// authorization code with PKCE, discovery, JWKS, id_token and userinfo, then the normal cookie session.
/// </summary>
public sealed class SsoBrowserTests(SsoApp app) : IClassFixture<SsoApp>
{
    [Fact]
    public async Task FirstSignIn_MappedEmailDomain_JoinsThatOrganizationWithTheDefaultRole_AndNextSignInIsTheSameUser()
    {
        var acme = await app.SignUpAsync("Acme Owner");
        var providerName = $"Corp Keycloak {Guid.NewGuid():N}"[..22];
        await app.AddIdentityProviderAsync(providerName, allowedDomains: ["corp.test", "partner.test"],
            mappings: [new { domain = "corp.test", organization = acme.OrganizationId }], defaultRole: "manager");

        var (page, me) = await SignInThroughIdpAsync(providerName, "alice");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("My Agents");
        await Assertions.Expect(page.Locator("header a.user-name")).ToHaveTextAsync("Alice Example");
        Assert.Equal("alice@corp.test", me.GetProperty("user").GetProperty("email").GetString());
        var membership = Assert.Single(me.GetProperty("organizations").EnumerateArray());
        Assert.Equal(acme.OrganizationId, membership.GetProperty("uuid").GetGuid());
        Assert.Equal("manager", membership.GetProperty("role").GetString());

        var (_, again) = await SignInThroughIdpAsync(providerName, "alice");
        Assert.Equal(me.GetProperty("user").GetProperty("uuid").GetGuid(), again.GetProperty("user").GetProperty("uuid").GetGuid());
        Assert.Single(again.GetProperty("organizations").EnumerateArray());

        // Both sign-ins are in the audit log, marked as single sign-on.
        using var admin = await app.OperatorAsync();
        var audit = await Http.ReadJsonAsync(await admin.GetAsync("/api/admin/audit/?action=sign_in.succeeded&actor=alice@corp.test"));
        var entries = audit.GetProperty("items").EnumerateArray().ToList();
        Assert.True(entries.Count >= 2, $"expected both sign-ins in the audit log, found {entries.Count}");
        Assert.All(entries, e => Assert.Equal("sso", e.GetProperty("after").GetProperty("via").GetString()));
    }

    [Fact]
    public async Task FirstSignIn_UnmappedDomain_CreatesTheUsersOwnOrganization_AsAtSignUp()
    {
        var providerName = $"Partner IdP {Guid.NewGuid():N}"[..20];
        await app.AddIdentityProviderAsync(providerName, allowedDomains: ["partner.test"]);

        var (page, me) = await SignInThroughIdpAsync(providerName, "pat");

        var organization = Assert.Single(me.GetProperty("organizations").EnumerateArray());
        Assert.Equal("Pat Partner's Organization", organization.GetProperty("name").GetString());
        Assert.Equal("owner", organization.GetProperty("role").GetString());
        // The sign-in started a session the user can see and end, as a password sign-in does.
        var sessions = JsonDocument.Parse(await (await page.Context.APIRequest.GetAsync(app.BaseUrl + "/api/auth/sessions")).TextAsync()).RootElement;
        Assert.True(Assert.Single(sessions.EnumerateArray()).GetProperty("current").GetBoolean());
    }

    [Fact]
    public async Task SignIn_VerifiedEmailOfAnExistingAccount_LinksToThatAccount()
    {
        using var client = app.CreateClient();
        var signUp = await client.PostAsync("/api/auth/signup", JsonContent(new { email = "linked@corp.test", password = AgentMarketApp.DefaultPassword, name = "Existing Person" }));
        var existing = await Http.ReadJsonAsync(signUp, HttpStatusCode.Created);
        var providerName = $"Link IdP {Guid.NewGuid():N}"[..18];
        await app.AddIdentityProviderAsync(providerName);

        var (_, me) = await SignInThroughIdpAsync(providerName, "linked");

        Assert.Equal(existing.GetProperty("user").GetProperty("uuid").GetGuid(), me.GetProperty("user").GetProperty("uuid").GetGuid());
        Assert.Equal("Existing Person", me.GetProperty("user").GetProperty("name").GetString());
        var organization = Assert.Single(me.GetProperty("organizations").EnumerateArray());
        Assert.Equal(existing.GetProperty("organization").GetProperty("uuid").GetGuid(), organization.GetProperty("uuid").GetGuid());
    }

    [Theory]
    [InlineData("marketplace-bad-signature", "alice", "invalid_signature", "not signed with its keys")]
    [InlineData("marketplace-bad-issuer", "alice", "wrong_issuer", "unexpected issuer")]
    [InlineData("marketplace-bad-nonce", "alice", "wrong_nonce", "nonce mismatch")]
    [InlineData("marketplace", "unverified", "email_unverified", "not verified")]
    [InlineData("marketplace", "outsider", "email_domain_not_allowed", "domain may not sign in")]
    [InlineData("marketplace", "operator", "operator_account", "Operator accounts sign in with their email and password")]
    public async Task SignIn_RefusedAnswer_ShowsWhyAndStartsNoSession(string clientId, string login, string reason, string message)
    {
        var providerName = $"Refusing {reason} {Guid.NewGuid():N}"[..40];
        await app.AddIdentityProviderAsync(providerName, clientId, allowedDomains: ["corp.test", "tests.example"]);
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await StartAsync(page, providerName, login);

        await page.WaitForPageAsync($"{app.BaseUrl}/signin/sso/refused?reason={reason}");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Sign-in refused");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync(message);
        await AssertNoSessionAsync(context);
    }

    [Fact]
    public async Task DisabledProvider_IsNotOffered_AndItsLinkIsRefused()
    {
        var providerName = $"Disabled IdP {Guid.NewGuid():N}"[..22];
        var id = await app.AddIdentityProviderAsync(providerName, enabled: false);
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(app.BaseUrl + "/signin");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {providerName}" })).ToHaveCountAsync(0);

        var response = await page.GotoAsync($"{app.BaseUrl}/signin/sso/{id}");
        Assert.Equal((int)HttpStatusCode.Forbidden, response!.Status);
        Assert.EndsWith("/signin/sso/refused?reason=provider_unavailable", page.Url, StringComparison.Ordinal);
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("turned off");
        await AssertNoSessionAsync(context);
    }

    /// <summary>Signs in through the IdP in a fresh browser context; returns the page on My Agents and <c>/api/me</c>.</summary>
    async Task<(IPage Page, JsonElement Me)> SignInThroughIdpAsync(string providerName, string login)
    {
        var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await StartAsync(page, providerName, login);
        try
        {
            await page.WaitForPageAsync(app.BaseUrl + "/my-agents");
        }
        catch (TimeoutException)
        {
            Assert.Fail($"the sign-in of {login} ended at {page.Url} instead of My Agents: {await page.InnerTextAsync("body")}");
        }
        var me = await context.APIRequest.GetAsync(app.BaseUrl + "/api/me");
        Assert.Equal(200, me.Status);
        return (page, JsonDocument.Parse(await me.TextAsync()).RootElement.Clone());
    }

    /// <summary>From our sign-in page to the IdP's login form, and submits it.</summary>
    async Task StartAsync(IPage page, string providerName, string login)
    {
        await page.GotoAsync(app.BaseUrl + "/signin");
        await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {providerName}" }).ClickAsync();
        await page.WaitForPageAsync(url => url.StartsWith(app.Idp.Issuer, StringComparison.Ordinal));
        await page.Locator("input[name=login]").FillAsync(login);
        await page.Locator("input[name=password]").FillAsync("any password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign-in" }).ClickAsync();
    }

    static async Task AssertNoSessionAsync(IBrowserContext context)
    {
        var cookies = await context.CookiesAsync();
        Assert.DoesNotContain(cookies, c => c.Name == "am_session");
        var me = await context.APIRequest.GetAsync(context.Pages[0].Url.Split("/signin")[0] + "/api/me");
        Assert.Equal(401, me.Status);
    }

    static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");
}
