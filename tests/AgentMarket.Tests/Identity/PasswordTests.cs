using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>A forgotten password is reset through an emailed link; a known one is changed; either signs out older sessions.</summary>
public partial class PasswordTests(MailApp app) : IClassFixture<MailApp>
{
    const string NewPassword = "a brand new password";

    [Fact]
    public async Task AnExpiredSession_IsToldToSignInAgain()
    {
        var user = await app.SignUpAsync();
        app.Clock.Advance(TimeSpan.FromDays(15));
        try
        {
            var expired = await Http.AssertProblemAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
            Assert.Equal("Your session has expired or could not be read. Sign in again.", expired.GetProperty("detail").GetString());
        }
        finally
        {
            app.Clock.Advance(TimeSpan.FromDays(-15));
        }
    }

    [Fact]
    public async Task AForgottenPassword_IsResetThroughTheEmailedLink_AndEndsTheOldSessions()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email.ToUpperInvariant() }), HttpStatusCode.Accepted);

        var email = await app.Smtp.ReceivedByAsync(user.Email);
        Assert.Equal("Reset your password", email.Message.Subject);
        var token = TokenIn(email.Message.TextBody);

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = NewPassword }), HttpStatusCode.NoContent);

        // The session from before the reset is over, and says why; the old password no longer signs in, the new one does.
        var ended = await Http.AssertProblemAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Your session ended because your password was changed or your account was removed. Sign in again.", ended.GetProperty("detail").GetString());
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.Unauthorized, "invalid_credentials");
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = NewPassword }), HttpStatusCode.OK);

        // Once only.
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = "yet another password" }), HttpStatusCode.BadRequest, "password_reset_invalid");
    }

    [Fact]
    public async Task OnlyTheLatestLinkWorks_AndALinkExpiresAfterAnHour()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        var first = await RequestLinkAsync(anonymous, user.Email, expectedEmails: 1);

        // A second request within a minute sends nothing more; after it, a new link replaces the first.
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);
        Assert.Equal(1, await app.OutboxCountAsync(user.Email));
        app.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var second = await RequestLinkAsync(anonymous, user.Email, expectedEmails: 2);
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = first, password = NewPassword }), HttpStatusCode.BadRequest, "password_reset_invalid");

        app.Clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = second, password = NewPassword }), HttpStatusCode.BadRequest, "password_reset_invalid");
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheLink_PointsAtTheConfiguredAddress_WhateverHostTheRequestNamed()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/password-reset") { Content = JsonContent.Create(new { email = user.Email }) };
        request.Headers.Host = "attacker.example"; // else the victim gets a genuine link to the attacker's site
        await Http.AssertStatusAsync(await anonymous.SendAsync(request), HttpStatusCode.Accepted);

        var body = (await app.Smtp.ReceivedByAsync(user.Email)).Message.TextBody!;
        Assert.Contains(MailApp.PublicUrl + "/reset-password?token=", body, StringComparison.Ordinal);
        Assert.DoesNotContain("attacker.example", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAConfiguredPublicAddress_NoLinkIsSent_OutsideDevelopment()
    {
        await using var database = TestDatabase.Create();
        await using var unconfigured = new AnotherProcess(database);
        await unconfigured.InitializeAsync();
        var user = await unconfigured.SignUpAsync();
        using var anonymous = unconfigured.CreateClient();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);
        Assert.Equal(0, await unconfigured.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.CountAsync(e => e.Recipient == user.Email)));
    }

    [Fact]
    public async Task AtMostThreeLinksAnHour_AreSentToOneAccount()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        for (var i = 0; i < 5; i++)
        {
            await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);
            app.Clock.Advance(TimeSpan.FromMinutes(2));
        }
        Assert.Equal(3, await app.OutboxCountAsync(user.Email));
    }

    [Fact]
    public async Task RequestsForOneAccountAtOnce_SendOneLink()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(1, await app.OutboxCountAsync(user.Email));
    }

    [Fact]
    public async Task AResetLiftsALockout_AndTheUserIsToldThePasswordChanged()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        HttpResponseMessage last = null!;
        for (var i = 0; i < 5; i++)
        {
            last = await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = "not the password" });
        }
        await Http.AssertProblemAsync(last, HttpStatusCode.TooManyRequests, "account_locked");

        var token = await RequestLinkAsync(anonymous, user.Email, expectedEmails: 1);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = NewPassword }), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = NewPassword }), HttpStatusCode.OK);

        var notice = await app.Smtp.ReceivedByAsync(user.Email, "Your password was changed");
        Assert.Contains("If it was not you", notice.Message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAccountThatSignsInOnlyThroughSso_IsToldWhereToSignIn_AndGetsNoLink()
    {
        var user = await app.SignUpAsync();
        await app.InScopeAsync(null, async services =>
        {
            // As SsoAccounts creates such a user: no password, a link to the provider.
            var db = services.GetRequiredService<AppDbContext>();
            var provider = new AgentMarket.Identity.Sso.IdentityProvider { Name = $"Acme SSO {Guid.NewGuid():N}"[..20], Issuer = "https://sso.acme.example", ClientId = "market", ClientSecretProtected = "-", Scopes = "openid email" };
            db.IdentityProviders.Add(provider);
            db.ExternalLogins.Add(new AgentMarket.Identity.Sso.ExternalLogin { ProviderId = provider.Id, Subject = Guid.NewGuid().ToString(), UserId = user.UserId });
            (await db.Users.SingleAsync(u => u.Id == user.UserId)).PasswordHash = "";
            return await db.SaveChangesAsync();
        });
        using var anonymous = app.CreateClient();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);

        var email = await app.Smtp.ReceivedByAsync(user.Email, "How to sign in");
        Assert.Contains("it signs in with Acme SSO", email.Message.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("am_pwr_", email.Message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAddressWithoutAnAccount_GetsTheSameAnswer_AndNoEmail()
    {
        using var anonymous = app.CreateClient();
        var nobody = $"nobody-{Guid.NewGuid():N}@tests.example";
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = nobody }), HttpStatusCode.Accepted);
        Assert.Equal(0, await app.OutboxCountAsync(nobody));
    }

    [Fact]
    public async Task AWeakNewPassword_IsRefused_AndTheLinkStillWorks()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient();
        var token = await RequestLinkAsync(anonymous, user.Email, expectedEmails: 1);

        var weak = await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = "short" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("at least 10 characters", weak.ToString(), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, password = NewPassword }), HttpStatusCode.NoContent);
    }

    [Theory]
    [InlineData("{\"token\":\"not-a-token\",\"password\":\"a brand new password\"}", "password_reset_invalid")]
    [InlineData("{\"token\":\"am_pwr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"password\":\"a brand new password\"}", "password_reset_invalid")]
    [InlineData("{\"password\":\"a brand new password\"}", "validation_failed")]
    [InlineData("{\"token\": 12}", "malformed_json")]
    public async Task ABadConfirmation_IsRefusedWithAStableCode(string body, string code)
    {
        using var anonymous = app.CreateClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        await Http.AssertProblemAsync(await anonymous.PostAsync("/api/auth/password-reset/confirm", content), HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task ChangingThePassword_KeepsThisSession_AndEndsTheOthers()
    {
        var user = await app.SignUpAsync();
        var otherSession = app.CreateClient();
        await Http.AssertStatusAsync(await otherSession.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        var token = await user.CreateTokenAsync();

        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = "not the password", new_password = NewPassword }), HttpStatusCode.Unauthorized, "invalid_credentials");
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = user.Password, new_password = "short" }), HttpStatusCode.BadRequest, "validation_failed");
        var same = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = user.Password, new_password = user.Password }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(same.GetProperty("errors").TryGetProperty("new_password", out _));
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = user.Password, new_password = NewPassword }), HttpStatusCode.NoContent);

        Assert.Equal(HttpStatusCode.OK, (await user.Client.GetAsync("/api/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await otherSession.GetAsync("/api/me")).StatusCode);
        // The mistyped current password is in the audit trail as such, not as a sign-in attempt.
        var operatorClient = await app.OperatorAsync();
        var failed = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=sign_in.failed&target={user.UserId}"));
        Assert.Contains("wrong_current_password", failed.ToString(), StringComparison.Ordinal);
        await app.Smtp.ReceivedByAsync(user.Email, "Your password was changed");
        // Personal access tokens are for scripts; they keep working.
        Assert.Equal(HttpStatusCode.OK, (await app.BearerClient(token).GetAsync("/api/me")).StatusCode);
        using var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = NewPassword }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ChangingThePassword_NeedsASignedInUser()
    {
        using var anonymous = app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/auth/password", new { current_password = "x", new_password = NewPassword })).StatusCode);
    }

    async Task<string> RequestLinkAsync(HttpClient anonymous, string email, int expectedEmails)
    {
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email }), HttpStatusCode.Accepted);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (ResetEmails(email).Count() < expectedEmails)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{expectedEmails} emails did not reach {email}.");
            await Task.Delay(50);
        }
        return TokenIn(ResetEmails(email).ElementAt(expectedEmails - 1).Message.TextBody);
    }

    IEnumerable<FakeSmtpServer.Received> ResetEmails(string recipient) =>
        app.Smtp.Messages.Where(m => m.Recipients.Contains(recipient) && m.Message.Subject == "Reset your password");

    static string TokenIn(string? body) => ResetLink().Match(body ?? "") is { Success: true } link ? link.Groups[1].Value : throw new InvalidOperationException("No reset link in: " + body);

    [GeneratedRegex(@"https?://\S+/reset-password\?token=(am_pwr_[0-9A-Za-z]+)")]
    private static partial Regex ResetLink();
}
