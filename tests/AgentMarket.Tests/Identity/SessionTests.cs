using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Identity;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Audit;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Identity;

/// <summary>
/// Sign-in sessions the server can end (ADR-132): every sign-in is a session the user can list and end, signing out
/// ends it for every copy of its cookie, and a password change or reset ends the others.
/// </summary>
public class SessionTests(ClientAddressApp app) : IClassFixture<ClientAddressApp>
{
    const string Firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
    const string SignedOut = "This session was signed out, here or from another of your sessions. Sign in again.";

    [Fact]
    public async Task EverySignIn_StartsASession_ListedWithItsDeviceAddressAndTimes()
    {
        var user = await app.SignUpAsync();
        var before = app.Clock.GetUtcNow().UtcDateTime;
        var firefox = await SignInAsync(user, Firefox);
        var token = await user.CreateTokenAsync();

        var listed = await SessionsAsync(firefox.Client);
        Assert.Equal(2, listed.Count);
        var mine = Assert.Single(listed, s => s.GetProperty("current").GetBoolean());
        Assert.Equal("Firefox on Windows", mine.GetProperty("device").GetString());
        Assert.Equal(ClientAddressApp.ClientAddress, mine.GetProperty("ip_address").GetString());
        var created = mine.GetProperty("created").GetDateTime();
        Assert.InRange(created, before.AddSeconds(-1), app.Clock.GetUtcNow().UtcDateTime);
        Assert.Equal(created, mine.GetProperty("last_seen").GetDateTime());
        var signUp = Assert.Single(listed, s => !s.GetProperty("current").GetBoolean());
        Assert.Equal("Unknown device", signUp.GetProperty("device").GetString());

        // A personal access token is no session: it lists the same two, neither of them its own.
        var byToken = await SessionsAsync(app.BearerClient(token));
        Assert.Equal(listed.Select(s => s.GetProperty("uuid").GetGuid()).Order(), byToken.Select(s => s.GetProperty("uuid").GetGuid()).Order());
        Assert.DoesNotContain(byToken, s => s.GetProperty("current").GetBoolean());
    }

    [Theory]
    [InlineData("api")]
    [InlineData("page")]
    public async Task SigningOut_EndsTheSessionOnTheServer_SoACopiedCookieStopsWorking(string how)
    {
        var user = await app.SignUpAsync();
        var browser = await SignInAsync(user);
        var sessionId = await browser.SessionIdAsync();
        using var thief = browser.Copy(app);
        await Http.AssertStatusAsync(await thief.GetAsync("/api/me"), HttpStatusCode.OK);

        if (how == "api")
        {
            await Http.AssertStatusAsync(await browser.Client.PostAsync("/api/auth/signout", null), HttpStatusCode.NoContent);
        }
        else
        {
            var page = await browser.Client.HtmlAsync("/my-agents"); // the header's sign-out form
            var signOut = await browser.Client.PostAsync("/signout", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = Forms.HiddenValue(page, "__RequestVerificationToken"),
            }));
            PageForms.AssertRedirect(signOut, "/");
        }

        var refused = await Http.AssertProblemAsync(await thief.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(SignedOut, refused.GetProperty("detail").GetString());
        Assert.DoesNotContain(await SessionsAsync(user.Client), s => s.GetProperty("uuid").GetGuid() == sessionId);
        Assert.NotNull((await RowsAsync(user)).Single(s => s.Id == sessionId).EndedUtc);
    }

    [Fact]
    public async Task ACookieIssuedBeforeSessions_IsTreatedAsSignedOut()
    {
        var user = await app.SignUpAsync();
        var now = app.Clock.GetUtcNow();
        var account = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Users.AsNoTracking().SingleAsync(u => u.Id == user.UserId));
        var options = app.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(AuthSchemes.Cookie);
        var ticket = new AuthenticationTicket(Accounts.PrincipalFor(account, AuthSchemes.Cookie),
            new AuthenticationProperties { IsPersistent = true, IssuedUtc = now, ExpiresUtc = now.AddDays(14) }, AuthSchemes.Cookie);
        using var old = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        old.DefaultRequestHeaders.Add("Cookie", $"{AuthSchemes.SessionCookie}={options.TicketDataFormat.Protect(ticket)}");

        var refused = await Http.AssertProblemAsync(await old.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Your session has ended. Sign in again.", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ASessionEndedFromAnother_StopsWorking_AndIsAudited_ButNotAnotherUsersSession()
    {
        var user = await app.SignUpAsync();
        var laptop = await SignInAsync(user);
        var laptopSession = await laptop.SessionIdAsync();
        using var thief = laptop.Copy(app);

        await Http.AssertStatusAsync(await user.Client.DeleteAsync($"/api/auth/sessions/{laptopSession}"), HttpStatusCode.NoContent);
        Assert.Equal(SignedOut, (await Http.AssertProblemAsync(await laptop.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized")).GetProperty("detail").GetString());
        await Http.AssertStatusAsync(await thief.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.OK);
        // Ending it again changes nothing and records nothing more.
        await Http.AssertStatusAsync(await user.Client.DeleteAsync($"/api/auth/sessions/{laptopSession}"), HttpStatusCode.NoContent);

        var operatorClient = await app.OperatorAsync();
        var entry = Assert.Single(await AuditAsync(operatorClient, $"action=session.revoked&target={laptopSession}"));
        Assert.Equal(user.UserId, entry.GetProperty("actor").GetProperty("uuid").GetGuid());

        var stranger = await app.SignUpAsync();
        var theirs = Assert.Single(await SessionsAsync(stranger.Client)).GetProperty("uuid").GetGuid();
        await Http.AssertProblemAsync(await user.Client.DeleteAsync($"/api/auth/sessions/{theirs}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await stranger.Client.GetAsync("/api/me"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task SigningInAgainInTheSameBrowser_EndsTheSessionItReplaces()
    {
        var user = await app.SignUpAsync();
        var browser = await SignInAsync(user);
        var replaced = await browser.SessionIdAsync();
        using var copy = browser.Copy(app);

        await Http.AssertStatusAsync(await browser.Client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);

        await Http.AssertStatusAsync(await browser.Client.GetAsync("/api/me"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await copy.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        Assert.DoesNotContain(await SessionsAsync(user.Client), s => s.GetProperty("uuid").GetGuid() == replaced);
    }

    [Fact]
    public async Task EndingThisDevicesOwnSession_SignsItOut()
    {
        var user = await app.SignUpAsync();
        var browser = await SignInAsync(user);
        using var thief = browser.Copy(app);
        await Http.AssertStatusAsync(await browser.Client.DeleteAsync($"/api/auth/sessions/{await browser.SessionIdAsync()}"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await browser.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await thief.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SigningOutOfAllOtherSessions_KeepsThisOneAndTokens_AndIsAudited()
    {
        var user = await app.SignUpAsync();
        var (phone, tablet) = (await SignInAsync(user), await SignInAsync(user));
        var token = await user.CreateTokenAsync();

        await Http.AssertStatusAsync(await user.Client.PostAsync("/api/auth/sessions/revoke-others", null), HttpStatusCode.NoContent);

        await Http.AssertStatusAsync(await phone.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await tablet.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        Assert.True(Assert.Single(await SessionsAsync(user.Client)).GetProperty("current").GetBoolean());
        await Http.AssertStatusAsync(await app.BearerClient(token).GetAsync("/api/me"), HttpStatusCode.OK);
        var entry = Assert.Single(await AuditAsync(await app.OperatorAsync(), $"action=session.others_revoked&target={user.UserId}"));
        Assert.Equal(2, entry.GetProperty("after").GetProperty("ended").GetInt32());

        // Again, with no other session left: nothing ended, nothing audited.
        await Http.AssertStatusAsync(await user.Client.PostAsync("/api/auth/sessions/revoke-others", null), HttpStatusCode.NoContent);
        Assert.Single(await AuditAsync(await app.OperatorAsync(), $"action=session.others_revoked&target={user.UserId}"));
    }

    [Fact]
    public async Task ChangingThePassword_MarksTheOtherSessionsEnded_AndThisOneGoesOn()
    {
        var user = await app.SignUpAsync();
        var other = await SignInAsync(user);
        var otherSession = await other.SessionIdAsync();
        var thisSession = Assert.Single(await SessionsAsync(user.Client), s => s.GetProperty("current").GetBoolean()).GetProperty("uuid").GetGuid();

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = user.Password, new_password = "a changed password" }), HttpStatusCode.NoContent);

        var listed = Assert.Single(await SessionsAsync(user.Client));
        Assert.Equal((thisSession, true), (listed.GetProperty("uuid").GetGuid(), listed.GetProperty("current").GetBoolean()));
        var rows = await RowsAsync(user);
        Assert.NotNull(rows.Single(s => s.Id == otherSession).EndedUtc);
        Assert.Null(rows.Single(s => s.Id == thisSession).EndedUtc);
        await Http.AssertStatusAsync(await other.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ResettingThePassword_MarksEverySessionEnded()
    {
        var user = await app.SignUpAsync();
        await SignInAsync(user);
        using var anonymous = app.CreateClient();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);
        var resetEmail = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .Where(e => e.Recipient == user.Email && e.Subject == "Reset your password").Select(e => e.Body).SingleAsync());
        var resetToken = System.Text.RegularExpressions.Regex.Match(resetEmail, "token=(am_pwr_[0-9A-Za-z]+)").Groups[1].Value;

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = resetToken, password = "a reset password" }), HttpStatusCode.NoContent);

        var rows = await RowsAsync(user);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, s => Assert.NotNull(s.EndedUtc));
    }

    [Fact]
    public async Task LastSeen_IsWrittenEveryFewMinutes_NotOnEveryRequest()
    {
        var user = await app.SignUpAsync();
        var signedIn = Assert.Single(await SessionsAsync(user.Client)).GetProperty("last_seen").GetDateTime();

        app.Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(signedIn, Assert.Single(await SessionsAsync(user.Client)).GetProperty("last_seen").GetDateTime());

        app.Clock.Advance(SessionStamps.LastSeenPrecision);
        var seen = Assert.Single(await SessionsAsync(user.Client)).GetProperty("last_seen").GetDateTime();
        Assert.InRange(seen, signedIn + SessionStamps.LastSeenPrecision, app.Clock.GetUtcNow().UtcDateTime);
    }

    [Fact]
    public async Task ASignOut_ReachesOtherReplicas_WithinTheCachePeriod()
    {
        var user = await app.SignUpAsync();
        var browser = await SignInAsync(user);
        await using var replica = new AnotherProcess(app.Database);
        await replica.InitializeAsync();
        using var elsewhere = browser.Copy(replica);
        using var here = browser.Copy(app);
        await Http.AssertStatusAsync(await elsewhere.GetAsync("/api/me"), HttpStatusCode.OK);

        await Http.AssertStatusAsync(await browser.Client.PostAsync("/api/auth/signout", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await here.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        // The replica read the session as open and trusts that for the cache period, then reads it again.
        await Http.AssertStatusAsync(await elsewhere.GetAsync("/api/me"), HttpStatusCode.OK);
        replica.Clock.Advance(SessionStamps.CacheFor);
        await Http.AssertStatusAsync(await elsewhere.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task LongOverSessions_AreDeleted_WhenTheUserSignsInAgain()
    {
        var user = await app.SignUpAsync();
        var signUpSession = Assert.Single(await SessionsAsync(user.Client)).GetProperty("uuid").GetGuid();
        var ended = await SignInAsync(user);
        await Http.AssertStatusAsync(await ended.Client.PostAsync("/api/auth/signout", null), HttpStatusCode.NoContent);

        var travelled = TimeSpan.Zero;
        void Advance(TimeSpan by)
        {
            app.Clock.Advance(by);
            travelled += by;
        }
        try
        {
            // Ended longer ago than it is kept: deleted. The sign-up session, never ended, is kept as long past its
            // cookie's expiry.
            Advance(UserSessions.KeepEndedFor + TimeSpan.FromDays(1));
            var later = await (await SignInAsync(user)).SessionIdAsync();
            Assert.Equal(new[] { signUpSession, later }.Order(), (await RowsAsync(user)).Select(s => s.Id).Order());

            Advance(AuthSetup.CookieLifetime);
            var latest = await (await SignInAsync(user)).SessionIdAsync();
            Assert.Equal(new[] { later, latest }.Order(), (await RowsAsync(user)).Select(s => s.Id).Order());
        }
        finally
        {
            app.Clock.Advance(-travelled);
        }
    }

    [Fact]
    public async Task SessionsPage_ListsTheSessions_MarksThisDevice_AndSignsOutAnother()
    {
        var user = await app.SignUpAsync();
        var firefox = await SignInAsync(user, Firefox);
        var firefoxSession = await firefox.SessionIdAsync();
        var thisSession = Assert.Single(await SessionsAsync(user.Client), s => s.GetProperty("current").GetBoolean()).GetProperty("uuid").GetGuid();
        Assert.Contains("href=\"/account/sessions\"", await user.Client.HtmlAsync("/organization"), StringComparison.Ordinal);

        var page = await user.Client.HtmlAsync("/account/sessions");
        Assert.Contains("Firefox on Windows", page, StringComparison.Ordinal);
        Assert.Contains(ClientAddressApp.ClientAddress, page, StringComparison.Ordinal);
        Assert.Equal("This device", PageForms.Marked(page, "data-current"));
        Assert.Contains($"data-session=\"{thisSession}\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain($"value=\"{thisSession}\"", page, StringComparison.Ordinal);
        Assert.Contains($"value=\"{firefoxSession}\"", page, StringComparison.Ordinal);

        var ended = await user.Client.SubmitFromPageAsync("/account/sessions", page, "session-action", new() { ["end"] = firefoxSession.ToString() });
        Assert.Contains("That session is signed out.", await user.Client.HtmlAsync(PageForms.AssertRedirect(ended, "/account/sessions")), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await firefox.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.OK);
        Assert.Single(await AuditAsync(await app.OperatorAsync(), $"action=session.revoked&target={firefoxSession}"));

        // The same page, posted again after that session ended: said so, nothing else changes.
        var stale = await user.Client.SubmitFromPageAsync("/account/sessions", page, "session-action", new() { ["end"] = firefoxSession.ToString() });
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Contains("That session was already signed out (or is not yours): nothing changed.", await stale.HtmlAsync(), StringComparison.Ordinal);
        var crafted = await user.Client.HtmlAsync($"/account/sessions?done={Uri.EscapeDataString("Your account is locked: call evil.example")}");
        Assert.DoesNotContain("Your account is locked", crafted, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-success", crafted, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionsPage_SignsOutOfAllOtherSessions()
    {
        var user = await app.SignUpAsync();
        var (phone, tablet) = (await SignInAsync(user), await SignInAsync(user));

        var done = await user.Client.SubmitAsync("/account/sessions", "end-other-sessions");
        Assert.Contains("All your other sessions are signed out.", await user.Client.HtmlAsync(PageForms.AssertRedirect(done, "/account/sessions")), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await phone.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await tablet.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        Assert.Single(await SessionsAsync(user.Client));
    }

    [Theory]
    [InlineData(Firefox, "Firefox on Windows")]
    [InlineData("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS")]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS")]
    [InlineData("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", "Chrome on Android")]
    [InlineData("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows")]
    [InlineData("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0", "Opera on Linux")]
    [InlineData("Mozilla/5.0 (compatible; SomeBot/1.0)", "Unknown browser")]
    [InlineData("curl/8.5.0", "curl")]
    [InlineData("python-requests/2.31.0", "python-requests")]
    [InlineData("", "Unknown device")]
    [InlineData(null, "Unknown device")]
    public void DeviceDescription_NamesTheBrowserAndSystem(string? userAgent, string expected) =>
        Assert.Equal(expected, DeviceDescription.From(userAgent));

    /// <summary>A browser signed in with the user's password; its cookie jar lets a test copy the cookie as a thief would.</summary>
    async Task<Browser> SignInAsync(TestUser user, string? userAgent = null)
    {
        var cookies = new CookieContainer();
        var client = app.CreateDefaultClient(new CookieContainerHandler(cookies));
        if (userAgent is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", userAgent);
        }
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        return new Browser(client, cookies);
    }

    sealed record Browser(HttpClient Client, CookieContainer Cookies)
    {
        /// <summary>A client of <paramref name="app"/> that sends this browser's cookies as they are now, and keeps none of its own.</summary>
        public HttpClient Copy(AgentMarketApp app)
        {
            var copy = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
            copy.DefaultRequestHeaders.Add("Cookie", Cookies.GetCookieHeader(new Uri("http://localhost/")));
            return copy;
        }

        public async Task<Guid> SessionIdAsync() =>
            Assert.Single(await SessionsAsync(Client), s => s.GetProperty("current").GetBoolean()).GetProperty("uuid").GetGuid();
    }

    static async Task<List<JsonElement>> SessionsAsync(HttpClient client) => [.. (await Http.ReadJsonAsync(await client.GetAsync("/api/auth/sessions"))).EnumerateArray()];

    Task<List<UserSession>> RowsAsync(TestUser user) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().UserSessions.AsNoTracking().Where(s => s.UserId == user.UserId).ToListAsync());

    static async Task<List<JsonElement>> AuditAsync(HttpClient operatorClient, string query) =>
        [.. (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?{query}&limit=200"))).GetProperty("items").EnumerateArray()];
}
