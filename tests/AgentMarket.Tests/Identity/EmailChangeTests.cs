using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>
/// A user moves their account to a new email address: asked for with the password, finished through a link emailed to
/// the new address, told to the old one; the other sessions end (ADR-139).
/// </summary>
public partial class EmailChangeTests(MailApp app) : IClassFixture<MailApp>
{
    const string SignedOut = "This session was signed out, here or from another of your sessions. Sign in again.";
    const string LinkSubject = "Confirm your new email address";

    [Fact]
    public async Task RequestsAtOnce_SendOneLink_AndTheOthersAreToldToWait()
    {
        var user = await app.SignUpAsync();
        var addresses = Enumerable.Range(0, 6).Select(i => $"at-once-{i}-{Guid.NewGuid():N}@tests.example").ToList();

        var responses = await Task.WhenAll(addresses.Select(address => user.Client.PostAsJsonAsync("/api/me/email", new { email = address, password = user.Password })));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Accepted);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Accepted), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        var sent = 0;
        foreach (var address in addresses)
        {
            sent += await app.OutboxCountAsync(address);
        }
        Assert.Equal(1, sent);
    }

    [Fact]
    public async Task AnEmailChange_IsConfirmedThroughTheLinkSentToTheNewAddress_AndEndsTheOtherSessions()
    {
        var user = await app.SignUpAsync();
        using var otherSession = app.CreateClient();
        await Http.AssertStatusAsync(await otherSession.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        var token = await user.CreateTokenAsync();
        var newEmail = NewAddress();

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = " " + newEmail.ToUpperInvariant(), password = user.Password }), HttpStatusCode.Accepted);

        // The old address is told at once, so a change asked for from a stolen session is noticed.
        var notice = await app.Smtp.ReceivedByAsync(user.Email, "A change of your email address was asked for");
        Assert.Contains(newEmail, notice.Message.TextBody, StringComparison.Ordinal);
        var link = TokenIn((await app.Smtp.ReceivedByAsync(newEmail, LinkSubject)).Message.TextBody);
        // Nothing changes until the link is opened.
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.NoContent);

        // The session that opened the link goes on, its cookie with the new address; the other one is over.
        Assert.Equal(newEmail, await EmailOfAsync(user.Client));
        var ended = await Http.AssertProblemAsync(await otherSession.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal(SignedOut, ended.GetProperty("detail").GetString());
        // Personal access tokens are for scripts, as for a password change; they act for the user, now at the new address.
        Assert.Equal(newEmail, await EmailOfAsync(app.BearerClient(token)));

        using var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.Unauthorized, "invalid_credentials");
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = newEmail, password = user.Password }), HttpStatusCode.OK);

        var changed = await app.Smtp.ReceivedByAsync(user.Email, "Your email address was changed");
        Assert.Contains($"from {user.Email} to {newEmail}", changed.Message.TextBody, StringComparison.Ordinal);
        var operatorClient = await app.OperatorAsync();
        var entry = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=user.email_changed&target={user.UserId}"))).GetProperty("items").EnumerateArray().Single();
        Assert.Contains(user.Email, entry.GetProperty("before").ToString(), StringComparison.Ordinal);
        Assert.Contains(newEmail, entry.GetProperty("after").ToString(), StringComparison.Ordinal);

        // Once only; and never without signing in.
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.BadRequest, "email_change_invalid");
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AWrongPassword_IsRefusedAsForAPasswordChange_AndNothingIsSent()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();

        var wrong = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = newEmail, password = "not the password" }),
            HttpStatusCode.Unauthorized, "invalid_credentials");
        Assert.Equal("The current password is wrong.", wrong.GetProperty("detail").GetString());
        foreach (var invalid in new[] { "not an address", "two@at@tests.example", user.Email.ToUpperInvariant() })
        {
            var refused = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = invalid, password = user.Password }),
                HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(refused.GetProperty("errors").TryGetProperty("email", out _));
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.CreateClient().PostAsJsonAsync("/api/me/email", new { email = newEmail, password = user.Password })).StatusCode);

        Assert.Equal(0, await app.OutboxCountAsync(newEmail));
        Assert.Equal(0, await app.OutboxCountAsync(user.Email));
        // The mistyped password is in the audit trail as a signed-in user's, not as a sign-in attempt.
        var operatorClient = await app.OperatorAsync();
        var failed = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=sign_in.failed&target={user.UserId}"));
        Assert.Contains("wrong_current_password", failed.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAddressAnotherAccountHas_GetsTheSameAnswer_ItsOwnerANote_AndNoLink()
    {
        var user = await app.SignUpAsync();
        var owner = await app.SignUpAsync();

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = owner.Email, password = user.Password }), HttpStatusCode.Accepted);

        var note = await app.Smtp.ReceivedByAsync(owner.Email, "Someone asked to use your address");
        Assert.DoesNotContain("am_emc_", note.Message.TextBody, StringComparison.Ordinal);
        await app.Smtp.ReceivedByAsync(user.Email, "A change of your email address was asked for");
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Recipients.Contains(owner.Email) && m.Message.Subject == LinkSubject);
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));
        Assert.Equal(owner.Email, await EmailOfAsync(owner.Client));
    }

    [Fact]
    public async Task AnAddressTakenBeforeTheLinkIsOpened_IsRefusedWithAClearMessage()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();
        var link = await RequestLinkAsync(user, newEmail);
        using var someoneElse = app.CreateClient();
        await Http.AssertStatusAsync(await someoneElse.PostAsJsonAsync("/api/auth/signup", new { email = newEmail, password = "someone else's password", name = "Quicker" }), HttpStatusCode.Created);

        var taken = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.Conflict, "email_taken");
        Assert.Equal("Another account now uses this address, so your email was not changed.", taken.GetProperty("detail").GetString());
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));
    }

    [Fact]
    public async Task OnlyTheNewestLinkWorks_AtMostOneRequestAMinute_AndALinkExpires()
    {
        var user = await app.SignUpAsync();
        var first = await RequestLinkAsync(user, NewAddress());
        var tooSoon = await user.Client.PostAsJsonAsync("/api/me/email", new { email = NewAddress(), password = user.Password });
        await Http.AssertProblemAsync(tooSoon, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.NotNull(tooSoon.Headers.RetryAfter);

        app.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var secondEmail = NewAddress();
        var second = await RequestLinkAsync(user, secondEmail);
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = first }), HttpStatusCode.BadRequest, "email_change_invalid");

        app.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = second }), HttpStatusCode.BadRequest, "email_change_invalid");
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));
    }

    [Fact]
    public async Task ANewPassword_EndsAPendingEmailChange()
    {
        var user = await app.SignUpAsync();
        var link = await RequestLinkAsync(user, NewAddress());

        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/password", new { current_password = user.Password, new_password = "a password of my own" }), HttpStatusCode.NoContent);

        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.BadRequest, "email_change_invalid");
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));
    }

    [Fact]
    public async Task ALinkOpenedBySomeoneElse_ChangesNothing_OnlyTheAccountThatAskedConfirmsIt()
    {
        // The owner of an address must not be able to move a stranger's account onto it by pressing a button.
        var user = await app.SignUpAsync();
        var someoneElse = await app.SignUpAsync();
        var newEmail = NewAddress();
        var link = await RequestLinkAsync(user, newEmail);
        Assert.Contains($"the account {user.Email}", (await app.Smtp.ReceivedByAsync(newEmail, LinkSubject)).Message.TextBody, StringComparison.Ordinal);

        var refused = await Http.AssertProblemAsync(await someoneElse.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.Forbidden, "email_change_other_account");
        Assert.Equal(EmailChanges.OtherAccountMessage, refused.GetProperty("detail").GetString());
        var page = await someoneElse.Client.HtmlAsync($"/account/email/confirm?token={link}");
        Assert.Contains("This link is for another account", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Use this address", page, StringComparison.Ordinal);
        Assert.Equal(someoneElse.Email, await EmailOfAsync(someoneElse.Client));
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));

        // The link still works for its own account.
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.NoContent);
        Assert.Equal(newEmail, await EmailOfAsync(user.Client));
        Assert.Equal(someoneElse.Email, await EmailOfAsync(someoneElse.Client));
    }

    [Fact]
    public async Task TheOperatorNamedByAdminEmail_ChangesTheConfigurationFirst()
    {
        // Moved off Admin:Email, the next start would create a second operator there with Admin:Password.
        var operatorClient = await app.OperatorAsync();
        var refused = await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync("/api/me/email", new { email = NewAddress(), password = AgentMarketApp.OperatorPassword }),
            HttpStatusCode.Conflict, "email_change_not_allowed");
        Assert.Contains("Admin:Email", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AResetLinkSentToTheOldAddress_StopsWorking_WhenTheEmailChanges()
    {
        var user = await app.SignUpAsync();
        using var anonymous = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = user.Email }), HttpStatusCode.Accepted);
        var reset = Regex.Match((await app.Smtp.ReceivedByAsync(user.Email, "Reset your password")).Message.TextBody ?? "", "token=(am_pwr_[0-9A-Za-z]+)").Groups[1].Value;
        Assert.NotEmpty(reset);

        var link = await RequestLinkAsync(user, NewAddress());
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.NoContent);

        // Whoever still reads the old mailbox cannot take the account back with it.
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = reset, password = "taken over by the old mailbox" }),
            HttpStatusCode.BadRequest, "password_reset_invalid");
    }

    [Fact]
    public async Task AnAccountThatSignsInOnlyThroughSso_CannotChangeItsEmailHere()
    {
        var user = await app.SignUpAsync();
        var providerName = $"Acme SSO {Guid.NewGuid():N}"[..20];
        await app.InScopeAsync(null, async services =>
        {
            // As SsoAccounts creates such a user: no password, a link to the provider.
            var db = services.GetRequiredService<AppDbContext>();
            var provider = new AgentMarket.Identity.Sso.IdentityProvider { Name = providerName, Issuer = "https://sso.acme.example", ClientId = "market", ClientSecretProtected = "-", Scopes = "openid email" };
            db.IdentityProviders.Add(provider);
            db.ExternalLogins.Add(new AgentMarket.Identity.Sso.ExternalLogin { ProviderId = provider.Id, Subject = Guid.NewGuid().ToString(), UserId = user.UserId });
            (await db.Users.SingleAsync(u => u.Id == user.UserId)).PasswordHash = "";
            return await db.SaveChangesAsync();
        });
        var newEmail = NewAddress();

        var refused = await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = newEmail, password = "anything at all" }),
            HttpStatusCode.Conflict, "email_change_not_allowed");
        Assert.Contains($"signs in with {providerName}", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await app.OutboxCountAsync(newEmail));
    }

    [Fact]
    public async Task Invitations_FollowTheAddress_NotTheAccount()
    {
        var owner = await app.SignUpAsync();
        var user = await app.SignUpAsync();
        var toOldAddress = await InviteAsync(owner, user.Email);
        var newEmail = NewAddress();
        var link = await RequestLinkAsync(user, newEmail);
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = link }), HttpStatusCode.NoContent);

        // The old address's invitation stays that address's; one to the new address is the account's to accept.
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/invitations/accept", new { token = toOldAddress }), HttpStatusCode.NotFound, "invitation_invalid");
        var toNewAddress = await InviteAsync(owner, newEmail);
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/invitations/accept", new { token = toNewAddress }), HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheAccountPage_AsksForTheChange_AndTheLinksPage_ConfirmsIt()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();

        var wrong = await (await user.Client.SubmitAsync("/account", "change-email", new() { ["EmailInput.Email"] = newEmail, ["EmailInput.Password"] = "not the password" })).HtmlAsync();
        Assert.Contains("The current password is wrong.", wrong, StringComparison.Ordinal);
        var sent = await user.Client.SubmitAsync("/account", "change-email", new() { ["EmailInput.Email"] = newEmail, ["EmailInput.Password"] = user.Password });
        PageForms.AssertRedirect(sent, "/account?done=email-sent");
        Assert.Contains("We sent a link to the new address", await user.Client.HtmlAsync("/account?done=email-sent"), StringComparison.Ordinal);
        var link = TokenIn((await app.Smtp.ReceivedByAsync(newEmail, LinkSubject)).Message.TextBody);

        // Opened on another device, not signed in: the page asks to sign in to the account first, and comes back.
        using var phone = app.CreateClient();
        var page = await phone.HtmlAsync($"/account/email/confirm?token={link}");
        Assert.Contains($"/signin?returnUrl={Uri.EscapeDataString($"/account/email/confirm?token={link}")}", page, StringComparison.Ordinal);
        Assert.DoesNotContain("Use this address", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await phone.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        page = await phone.HtmlAsync($"/account/email/confirm?token={link}");
        Assert.Contains(newEmail, page, StringComparison.Ordinal);
        Assert.Contains(user.Email, page, StringComparison.Ordinal); // which account moves
        Assert.Equal(user.Email, await EmailOfAsync(user.Client));
        var confirmed = await phone.SubmitAsync($"/account/email/confirm?token={link}", "confirm-email", new() { ["Input.Token"] = link });
        PageForms.AssertRedirect(confirmed, "/account?done=email");
        Assert.Contains(newEmail, await phone.HtmlAsync("/account"), StringComparison.Ordinal);

        // The session that confirmed goes on; the user's other sessions ended; the used link says it no longer works.
        await Http.AssertProblemAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("This link does not change your email", await phone.HtmlAsync($"/account/email/confirm?token={link}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLinksPage_OpenedByTheSignedInUser_KeepsTheirSession()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();
        var link = await RequestLinkAsync(user, newEmail);

        var confirmed = await user.Client.SubmitAsync($"/account/email/confirm?token={link}", "confirm-email", new() { ["Input.Token"] = link });
        PageForms.AssertRedirect(confirmed, "/account?done=email");
        var account = await user.Client.HtmlAsync("/account?done=email");
        Assert.Contains("Your email address has been changed.", account, StringComparison.Ordinal);
        Assert.Contains(newEmail, account, StringComparison.Ordinal);
    }

    static string NewAddress() => $"moved-{Guid.NewGuid():N}@tests.example";

    async Task<string> RequestLinkAsync(TestUser user, string newEmail)
    {
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/me/email", new { email = newEmail, password = user.Password }), HttpStatusCode.Accepted);
        return TokenIn((await app.Smtp.ReceivedByAsync(newEmail, LinkSubject)).Message.TextBody);
    }

    static async Task<string?> EmailOfAsync(HttpClient client) =>
        (await Http.ReadJsonAsync(await client.GetAsync("/api/me"))).GetProperty("user").GetProperty("email").GetString();

    static async Task<string> InviteAsync(TestUser owner, string email)
    {
        var created = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email, role = "member" }), HttpStatusCode.Created);
        return System.Web.HttpUtility.ParseQueryString(new Uri(created.GetProperty("accept_url").GetString()!).Query)["token"]!;
    }

    static string TokenIn(string? body) => ConfirmLink().Match(body ?? "") is { Success: true } link ? link.Groups[1].Value : throw new InvalidOperationException("No confirmation link in: " + body);

    [GeneratedRegex(@"https?://\S+/account/email/confirm\?token=(am_emc_[0-9A-Za-z]+)")]
    private static partial Regex ConfirmLink();
}
