using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Identity;
using AgentMarket.Identity.Sso;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Identity;

/// <summary>
/// "This wasn't me": the notice of a made email change gives the old address a week to undo it, which also clears the
/// password (whoever changed it knew it), ends every way into the account and sends a reset link there (ADR-142).
/// </summary>
public partial class EmailChangeRevertTests(MailApp app) : IClassFixture<MailApp>
{
    const string NewPassword = "the owner's new password";

    [Fact]
    public async Task AChangeFromAStolenSession_IsUndoneByTheOldAddress_WhichGetsTheAccountBackThroughAResetLink()
    {
        var owner = await app.SignUpAsync();
        // The thief has a session and knows the password, which the change asks for.
        using var thief = await SignInAsync(owner.Email, owner.Password);
        var thiefEmail = NewAddress();
        var undo = await ChangeAsync(thief, owner.Email, thiefEmail, owner.Password);
        var thiefToken = await CreateTokenAsync(thiefEmail, owner.Password);
        using var anonymous = Anonymous();

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.NoContent);

        // Every way in is over: the thief's session and token, and the password, with either address.
        await Http.AssertProblemAsync(await thief.GetAsync("/api/me"), HttpStatusCode.Unauthorized, "unauthorized");
        await Http.AssertStatusAsync(await app.BearerClient(thiefToken).GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = owner.Email, password = owner.Password }), HttpStatusCode.Unauthorized, "invalid_credentials");
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/signin", new { email = thiefEmail, password = owner.Password }), HttpStatusCode.Unauthorized, "invalid_credentials");
        Assert.Contains(thiefEmail, (await app.Smtp.ReceivedByAsync(thiefEmail, "An email change was undone")).Message.TextBody, StringComparison.Ordinal);

        // The restored address gets a reset link, and the owner is back in.
        var reset = ResetTokenIn((await app.Smtp.ReceivedByAsync(owner.Email, "Choose a new password")).Message.TextBody);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = reset, password = NewPassword }), HttpStatusCode.NoContent);
        using var back = await SignInAsync(owner.Email, NewPassword);
        Assert.Equal(owner.Email, await EmailOfAsync(back));

        // Once only.
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.BadRequest, "email_revert_invalid");
        Assert.Equal(owner.Email, await EmailOfAsync(back));
        var operatorClient = await app.OperatorAsync();
        var entry = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=user.email_change_reverted&target={owner.UserId}")))
            .GetProperty("items").EnumerateArray().Single();
        Assert.Contains(thiefEmail, entry.GetProperty("before").ToString(), StringComparison.Ordinal);
        Assert.Contains(owner.Email, entry.GetProperty("after").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUndoLink_ExpiresAfterAWeek_AndThenChangesNothing()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();
        var undo = await ChangeAsync(user.Client, user.Email, newEmail, user.Password);
        using var anonymous = Anonymous();

        app.Clock.Advance(EmailChangeReverts.LinkLifetime + TimeSpan.FromSeconds(1));
        try
        {
            await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.BadRequest, "email_revert_invalid");
            using var again = await SignInAsync(newEmail, user.Password);
            Assert.Equal(newEmail, await EmailOfAsync(again));
        }
        finally
        {
            app.Clock.Advance(-(EmailChangeReverts.LinkLifetime + TimeSpan.FromSeconds(1)));
        }
    }

    [Fact]
    public async Task AnOldAddressTakenSinceTheChange_IsRefused_AndNothingChanges()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();
        var undo = await ChangeAsync(user.Client, user.Email, newEmail, user.Password);
        // Sign-up refuses a held address (below): only the database itself can give it to another account now.
        await app.InScopeAsync(null, services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            db.Users.Add(new User { Email = user.Email, Name = "Quicker", CreatedUtc = app.Clock.GetUtcNow().UtcDateTime });
            return db.SaveChangesAsync();
        });
        using var anonymous = Anonymous();
        var sentToNew = await app.OutboxCountAsync(newEmail);
        var sentToOld = await app.OutboxCountAsync(user.Email);

        var taken = await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.Conflict, "email_taken");

        Assert.Equal(EmailChangeReverts.TakenMessage, taken.GetProperty("detail").GetString());
        Assert.Equal(newEmail, await EmailOfAsync(user.Client));
        using var again = await SignInAsync(newEmail, user.Password);
        // No reset link, no notice.
        Assert.Equal(sentToNew, await app.OutboxCountAsync(newEmail));
        Assert.Equal(sentToOld, await app.OutboxCountAsync(user.Email));
    }

    [Fact]
    public async Task TheOldAddress_IsHeldForTheUndoLink_SoNoOtherAccountCanTakeItAndVoidTheUndo()
    {
        var owner = await app.SignUpAsync();
        var thiefEmail = NewAddress();
        var undo = await ChangeAsync(owner.Client, owner.Email, thiefEmail, owner.Password);
        using var thief = app.CreateClient();

        // Sign-up: the answer of a taken address.
        await Http.AssertProblemAsync(await thief.PostAsJsonAsync("/api/auth/signup", new { email = owner.Email, password = "the thief's password", name = "Thief" }),
            HttpStatusCode.Conflict, "email_taken");
        // An email change of another account: the answer of a taken address too, a note to the address instead of a link.
        var other = await app.SignUpAsync();
        await Http.AssertStatusAsync(await other.Client.PostAsJsonAsync("/api/me/email", new { email = owner.Email, password = other.Password }), HttpStatusCode.Accepted);
        Assert.Contains("no link was sent", (await app.Smtp.ReceivedByAsync(owner.Email, "Someone asked to use your address")).Message.TextBody, StringComparison.Ordinal);
        // A first single sign-on with the address creates no account.
        var provider = await AddIdentityProviderAsync();
        var refused = await Assert.ThrowsAsync<SsoRefusedException>(() => SsoSignInAsync(provider, Guid.NewGuid().ToString(), owner.Email));
        Assert.Equal(SsoRefusal.EmailHeld, refused.Reason);

        using var anonymous = Anonymous();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.NoContent);
        Assert.Equal(owner.Email, await SignInWithResetLinkAsync(owner.Email));
    }

    [Fact]
    public async Task TheUndo_UnlinksSingleSignOnLinkedSinceTheChange_AndKeepsEarlierLinks()
    {
        var owner = await app.SignUpAsync();
        var provider = await AddIdentityProviderAsync();
        var ownersSubject = Guid.NewGuid().ToString();
        await LinkAsync(provider, ownersSubject, owner.UserId);
        app.Clock.Advance(TimeSpan.FromSeconds(1));
        var thiefEmail = NewAddress();
        var undo = await ChangeAsync(owner.Client, owner.Email, thiefEmail, owner.Password);
        // The thief's identity provider account vouches for the new address: its first sign-in links it to the account.
        var thiefsSubject = Guid.NewGuid().ToString();
        Assert.Equal(owner.UserId, await SsoSignInAsync(provider, thiefsSubject, thiefEmail));
        using var anonymous = Anonymous();

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = undo }), HttpStatusCode.NoContent);

        Assert.NotEqual(owner.UserId, await SsoSignInAsync(provider, thiefsSubject, thiefEmail));
        Assert.Equal(owner.UserId, await SsoSignInAsync(provider, ownersSubject, owner.Email));
        var operatorClient = await app.OperatorAsync();
        var entry = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=user.email_change_reverted&target={owner.UserId}")))
            .GetProperty("items").EnumerateArray().Single();
        Assert.Contains(thiefsSubject, entry.GetProperty("before").ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(ownersSubject, entry.GetProperty("before").ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AfterTwoChanges_TheFirstAddressesLink_EndsTheSecondsLink()
    {
        var (first, _, firstUndo, secondUndo) = await ChangeTwiceAsync();
        using var anonymous = Anonymous();

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = firstUndo }), HttpStatusCode.NoContent);

        // The second address's link would take the account from its first owner again.
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = secondUndo }), HttpStatusCode.BadRequest, "email_revert_invalid");
        Assert.Equal(first, await SignInWithResetLinkAsync(first));
    }

    [Fact]
    public async Task AfterTwoChanges_TheSecondAddressesLink_LeavesTheFirstAddressesLinkWorking()
    {
        var (first, second, firstUndo, secondUndo) = await ChangeTwiceAsync();
        using var anonymous = Anonymous();

        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = secondUndo }), HttpStatusCode.NoContent);
        var secondReset = ResetTokenIn((await app.Smtp.ReceivedByAsync(second, "Choose a new password")).Message.TextBody);

        // The original owner wins: the account goes back to the first address, and the second's reset link ends.
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/email-change/revert", new { token = firstUndo }), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = secondReset, password = NewPassword }),
            HttpStatusCode.BadRequest, "password_reset_invalid");
        Assert.Equal(first, await SignInWithResetLinkAsync(first));
    }

    [Fact]
    public async Task TheUndoPage_ShowsTheChangeAndAButton_AndOnlyTheButtonUndoesIt()
    {
        var user = await app.SignUpAsync();
        var newEmail = NewAddress();
        var undo = await ChangeAsync(user.Client, user.Email, newEmail, user.Password);
        using var browser = app.CreateClient();
        var url = $"/account/email/revert?token={undo}";

        // Opening the link (as a mail scanner would) changes nothing.
        var page = await browser.HtmlAsync(url);
        Assert.Contains(user.Email, page, StringComparison.Ordinal);
        Assert.Contains(newEmail, page, StringComparison.Ordinal);
        Assert.Contains("Undo the change</button>", page, StringComparison.Ordinal);
        Assert.Equal(newEmail, await EmailOfAsync(user.Client));

        var done = await browser.SubmitAsync(url, "revert-email", new() { ["Input.Token"] = undo });

        PageForms.AssertRedirect(done, "/account/email/revert?done=reverted");
        Assert.Contains("The change was undone", await browser.HtmlAsync("/account/email/revert?done=reverted"), StringComparison.Ordinal);
        Assert.Equal(user.Email, await SignInWithResetLinkAsync(user.Email));
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);
        var used = await browser.HtmlAsync(url);
        Assert.Contains(EmailChangeReverts.InvalidLinkMessage, used, StringComparison.Ordinal);
        Assert.DoesNotContain("Undo the change</button>", used, StringComparison.Ordinal);
    }

    Task<IdentityProvider> AddIdentityProviderAsync() => app.InScopeAsync(null, async services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        var provider = new IdentityProvider { Name = $"Acme SSO {Guid.NewGuid():N}"[..20], Issuer = "https://sso.acme.example", ClientId = "market", ClientSecretProtected = "-", Scopes = "openid email" };
        db.IdentityProviders.Add(provider);
        await db.SaveChangesAsync();
        return provider;
    });

    /// <summary>Links <paramref name="subject"/> to the account as SsoAccounts does, now.</summary>
    Task<int> LinkAsync(IdentityProvider provider, string subject, Guid userId) => app.InScopeAsync(null, services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        db.ExternalLogins.Add(new ExternalLogin { ProviderId = provider.Id, Subject = subject, UserId = userId, CreatedUtc = app.Clock.GetUtcNow().UtcDateTime });
        return db.SaveChangesAsync();
    });

    /// <summary>A single sign-on whose provider vouched for <paramref name="email"/>: the account it reaches.</summary>
    Task<Guid> SsoSignInAsync(IdentityProvider provider, string subject, string email) => app.InScopeAsync(null, async services =>
        (await services.GetRequiredService<SsoAccounts>().SignInAsync(provider, new SsoProfile(subject, email, EmailVerified: true, "Someone"), CancellationToken.None)).Id);

    static string NewAddress() => $"moved-{Guid.NewGuid():N}@tests.example";

    HttpClient Anonymous() => app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });

    /// <summary>A→B→C from one session: the addresses A and B, and the undo links each was sent.</summary>
    async Task<(string First, string Second, string FirstUndo, string SecondUndo)> ChangeTwiceAsync()
    {
        var user = await app.SignUpAsync();
        var second = NewAddress();
        var firstUndo = await ChangeAsync(user.Client, user.Email, second, user.Password);
        // Past the one-request-a-minute limit of email changes.
        app.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        var secondUndo = await ChangeAsync(user.Client, second, NewAddress(), user.Password);
        return (user.Email, second, firstUndo, secondUndo);
    }

    /// <summary>Moves the account signed in on <paramref name="client"/> from <paramref name="from"/> to <paramref name="to"/>; returns the undo link sent to <paramref name="from"/>.</summary>
    async Task<string> ChangeAsync(HttpClient client, string from, string to, string password)
    {
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/me/email", new { email = to, password }), HttpStatusCode.Accepted);
        var confirm = Regex.Match((await app.Smtp.ReceivedByAsync(to, "Confirm your new email address")).Message.TextBody ?? "", "token=(am_emc_[0-9A-Za-z]+)").Groups[1].Value;
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/email-change/confirm", new { token = confirm }), HttpStatusCode.NoContent);
        var notice = (await app.Smtp.ReceivedByAsync(from, "Your email address was changed")).Message.TextBody ?? "";
        return UndoLink().Match(notice) is { Success: true } link ? link.Groups[1].Value : throw new InvalidOperationException("No undo link in: " + notice);
    }

    /// <summary>Sets a password with the reset link <paramref name="email"/> was sent after an undo, signs in with it, and returns the account's address.</summary>
    async Task<string?> SignInWithResetLinkAsync(string email)
    {
        using var anonymous = Anonymous();
        var reset = ResetTokenIn((await app.Smtp.ReceivedByAsync(email, "Choose a new password")).Message.TextBody);
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token = reset, password = NewPassword }), HttpStatusCode.NoContent);
        using var client = await SignInAsync(email, NewPassword);
        return await EmailOfAsync(client);
    }

    async Task<HttpClient> SignInAsync(string email, string password)
    {
        var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email, password }), HttpStatusCode.OK);
        return client;
    }

    async Task<string> CreateTokenAsync(string email, string password)
    {
        using var anonymous = Anonymous();
        var created = await Http.ReadJsonAsync(await anonymous.PostAsJsonAsync("/api/auth/tokens", new { email, password, name = "script" }), HttpStatusCode.Created);
        return created.GetProperty("token").GetString()!;
    }

    static async Task<string?> EmailOfAsync(HttpClient client) =>
        (await Http.ReadJsonAsync(await client.GetAsync("/api/me"))).GetProperty("user").GetProperty("email").GetString();

    static string ResetTokenIn(string? body) =>
        Regex.Match(body ?? "", "token=(am_pwr_[0-9A-Za-z]+)") is { Success: true } match ? match.Groups[1].Value : throw new InvalidOperationException("No reset link in: " + body);

    [GeneratedRegex(@"https?://\S+/account/email/revert\?token=(am_emr_[0-9A-Za-z]+)")]
    private static partial Regex UndoLink();
}
