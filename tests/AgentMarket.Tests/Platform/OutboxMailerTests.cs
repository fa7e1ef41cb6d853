using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Platform;

public class OutboxMailerTests(MailApp app) : IClassFixture<MailApp>
{
    [Fact]
    public async Task AnInvitation_IsEmailedThroughTheConfiguredServer_Once()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"invitee-{Guid.NewGuid():N}@tests.example";
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var received = await app.Smtp.ReceivedByAsync(invitee);
        Assert.Equal((FakeSmtpServer.Username, FakeSmtpServer.Password), (received.Username, received.Password));
        Assert.Equal("no-reply@agentmarket.test", received.MailFrom);
        Assert.Equal([invitee], received.Recipients);
        var from = Assert.Single(received.Message.From.Mailboxes);
        Assert.Equal(("AgentMarket", "no-reply@agentmarket.test"), (from.Name, from.Address));
        Assert.Equal(invitee, Assert.Single(received.Message.To.Mailboxes).Address);
        Assert.StartsWith("You are invited to join ", received.Message.Subject, StringComparison.Ordinal);
        Assert.Contains(invitation.GetProperty("accept_url").GetString()!, received.Message.TextBody, StringComparison.Ordinal);

        var stored = await WaitForAsync(invitee, e => e.SentUtc is not null);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal($"{stored.Id:N}@agentmarket.test", received.Message.MessageId);
        Assert.Equal("", stored.Body); // the link's secret does not stay in the outbox
        Assert.Single(app.Smtp.Messages, m => m.Recipients.Contains(invitee));
    }

    [Fact]
    public async Task AnEmailTheServerDefers_IsSentAgainAfterAWait_AndArrivesOnce()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"deferred-{Guid.NewGuid():N}@tests.example";
        app.Smtp.DeferNextMessages(1);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var deferred = await WaitForAsync(invitee, e => e.Attempts == 1 && e.NextAttemptUtc is not null && e.LastError is not null && e.LastError.Contains("451", StringComparison.Ordinal));
        Assert.Null(deferred.SentUtc);
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Recipients.Contains(invitee));

        // Not before its time: the first wait is a minute.
        await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, (await StoredAsync(invitee)).Attempts);

        app.Clock.Advance(TimeSpan.FromMinutes(1.25) + TimeSpan.FromSeconds(1)); // a minute, and up to a quarter more
        await app.Smtp.ReceivedByAsync(invitee);
        var sent = await WaitForAsync(invitee, e => e.SentUtc is not null);
        Assert.Equal(2, sent.Attempts);
        Assert.Single(app.Smtp.Messages, m => m.Recipients.Contains(invitee));
    }

    [Fact]
    public async Task AnEmailTheServerRefusesForGood_IsGivenUp_AndNotTriedAgain()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"refused-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseRecipient(invitee);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var failed = await WaitForAsync(invitee, e => e.FailedUtc is not null);
        Assert.Equal(1, failed.Attempts);
        Assert.Contains("550", failed.LastError, StringComparison.Ordinal);

        app.Clock.Advance(TimeSpan.FromHours(7));
        await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        var kept = await StoredAsync(invitee);
        Assert.Equal(1, kept.Attempts);
        Assert.Contains("/invitations/accept?token=", kept.Body, StringComparison.Ordinal); // an operator may send it again
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Recipients.Contains(invitee));

        // Once the invitation has expired the email cannot be sent again, so the link's secret goes.
        app.Clock.Advance(kept.ExpiresUtc!.Value - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromHours(1));
        await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        var expired = await StoredAsync(invitee);
        Assert.Equal(("", kept.FailedUtc), (expired.Body, expired.FailedUtc));
    }

    [Fact]
    public async Task ARefusedSignIn_PausesSending_WithoutChargingTheEmails()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"paused-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseSignIn = true;
        try
        {
            await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
            await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(2)); // the sender's own passes too
            var waiting = await StoredAsync(invitee);
            Assert.Equal((0, null, null), (waiting.Attempts, waiting.SentUtc, waiting.FailedUtc));
        }
        finally
        {
            app.Smtp.RefuseSignIn = false;
        }

        await ReceivedAfterThePauseAsync(invitee);
        Assert.Equal(1, (await WaitForAsync(invitee, e => e.SentUtc is not null)).Attempts);
    }

    [Fact]
    public async Task APolicyRefusal_IsAboutTheServerNotTheEmail_SoTheEmailWaitsUncharged()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"relay-{Guid.NewGuid():N}@tests.example";
        app.Smtp.RefuseRecipient(invitee, "550 5.7.1 Relaying denied");
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var refused = await WaitForAsync(invitee, e => e.LastError?.Contains("5.7.1", StringComparison.Ordinal) == true);
        Assert.Equal((0, null), (refused.Attempts, refused.FailedUtc));

        app.Smtp.AcceptRecipient(invitee); // the operator fixed the relay
        await ReceivedAfterThePauseAsync(invitee);
        Assert.Equal(1, (await WaitForAsync(invitee, e => e.SentUtc is not null)).Attempts);
    }

    [Fact]
    public async Task AnEmailThatExpiresWhileDeferred_IsGivenUpUnsent()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"expired-{Guid.NewGuid():N}@tests.example";
        app.Smtp.DeferNextMessages(1);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        await WaitForAsync(invitee, e => e.Attempts == 1 && e.NextAttemptUtc is not null && e.LastError is not null);

        app.Clock.Advance(TimeSpan.FromDays(15)); // the invitation lasts 14
        var expired = await WaitForAsync(invitee, e => e.FailedUtc is not null);
        Assert.Equal(("Expired before it could be sent.", ""), (expired.LastError, expired.Body));
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Recipients.Contains(invitee));
    }

    [Fact]
    public async Task AnEmailDeferredEveryTime_IsGivenUpAfterMaxAttempts()
    {
        // Each pass driven by the test, so every attempt's wait is known before the clock moves.
        await using var quiet = MailApp.WithoutBackgroundSender();
        await quiet.InitializeAsync();
        var mailer = quiet.Services.GetRequiredService<OutboxMailer>();
        var owner = await quiet.SignUpAsync();
        var invitee = $"given-up-{Guid.NewGuid():N}@tests.example";
        quiet.Smtp.RefuseRecipient(invitee, "450 4.2.0 mailbox busy");
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var maxAttempts = new MailOptions().MaxAttempts;
        var waits = new List<TimeSpan>();
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            Assert.Equal(1, await mailer.RunOnceAsync(CancellationToken.None));
            var stored = await StoredInAsync(quiet, invitee);
            Assert.Equal(attempt, stored.Attempts);
            if (attempt < maxAttempts)
            {
                Assert.Null(stored.FailedUtc);
                waits.Add(stored.NextAttemptUtc!.Value - quiet.Clock.GetUtcNow().UtcDateTime);
                Assert.Equal(0, await mailer.RunOnceAsync(CancellationToken.None)); // not before its time
                quiet.Clock.Advance(TimeSpan.FromHours(8)); // past the longest wait
            }
            else
            {
                Assert.NotNull(stored.FailedUtc);
                Assert.Contains("450", stored.LastError, StringComparison.Ordinal);
            }
        }
        // Doubling from a minute, each up to a quarter longer, capped at six hours (and its quarter).
        for (var i = 0; i < waits.Count; i++)
        {
            var nominal = TimeSpan.FromMinutes(Math.Min(Math.Pow(2, i), 360));
            Assert.InRange(waits[i], nominal - TimeSpan.FromSeconds(1), nominal * 1.25 + TimeSpan.FromSeconds(1));
        }
        Assert.DoesNotContain(quiet.Smtp.Messages, m => m.Recipients.Contains(invitee));
    }

    [Fact]
    public async Task EmailsWhoseLinkEnded_BeforeTheyWentOut_AreWithdrawn_AndCannotBeSentAgain()
    {
        // Nothing goes out until the test runs a pass, so each email is still waiting when its link ends.
        await using var quiet = MailApp.WithoutBackgroundSender();
        await quiet.InitializeAsync();
        var owner = await quiet.SignUpAsync();
        var invitee = await quiet.SignUpAsync();
        var revoked = $"revoked-{Guid.NewGuid():N}@tests.example";
        var replaced = $"replaced-{Guid.NewGuid():N}@tests.example";
        var kept = $"kept-{Guid.NewGuid():N}@tests.example";

        var revokedInvitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = revoked, role = "member" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/invitations/{revokedInvitation.GetProperty("uuid").GetGuid()}"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = replaced, role = "member" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = replaced, role = "manager" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = kept, role = "member" }), HttpStatusCode.Created);
        // Accepted through the link the inviter passed on, before the email went out.
        var accepted = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee.Email, role = "member" }), HttpStatusCode.Created);
        var token = System.Web.HttpUtility.ParseQueryString(new Uri(accepted.GetProperty("accept_url").GetString()!).Query)["token"];
        await Http.AssertStatusAsync(await invitee.Client.PostAsJsonAsync("/api/invitations/accept", new { token }), HttpStatusCode.OK);
        // A reset link replaced by a newer one, a minute later.
        using var anonymous = quiet.CreateClient();
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = owner.Email }), HttpStatusCode.Accepted);
        quiet.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset", new { email = owner.Email }), HttpStatusCode.Accepted);

        while (await quiet.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None) > 0)
        {
        }

        // Only what still holds arrived: the latest invitation of each address still pending, and the latest reset link.
        Assert.DoesNotContain(quiet.Smtp.Messages, m => m.Recipients.Contains(revoked) || m.Recipients.Contains(invitee.Email));
        Assert.Contains("as manager", Assert.Single(quiet.Smtp.Messages, m => m.Recipients.Contains(replaced)).Message.TextBody, StringComparison.Ordinal);
        Assert.Single(quiet.Smtp.Messages, m => m.Recipients.Contains(kept));
        var resetLink = Assert.Single(quiet.Smtp.Messages, m => m.Recipients.Contains(owner.Email)).Message.TextBody ?? "";
        await Http.AssertStatusAsync(await anonymous.PostAsJsonAsync("/api/auth/password-reset/confirm",
            new { token = System.Text.RegularExpressions.Regex.Match(resetLink, "token=(am_pwr_[0-9A-Za-z]+)").Groups[1].Value, password = "a brand new password" }), HttpStatusCode.NoContent);

        // The operator sees them withdrawn, apart from delivery failures, and why; none can be sent again: what it says no
        // longer holds.
        var operatorClient = await quiet.OperatorAsync();
        var withdrawn = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/emails/?state=withdrawn&limit=100"))).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(
            new[] { revoked, replaced, invitee.Email, owner.Email }.Order(),
            withdrawn.Select(e => e.GetProperty("recipient").GetString()!).Order());
        Assert.All(withdrawn, e => Assert.StartsWith("Withdrawn before it was sent: ", e.GetProperty("last_error").GetString(), StringComparison.Ordinal));
        Assert.All(withdrawn, e => Assert.Equal("withdrawn", e.GetProperty("state").GetString()));
        Assert.All(withdrawn, e => Assert.Equal(JsonValueKind.String, e.GetProperty("withdrawn_at").ValueKind));
        Assert.Contains(withdrawn, e => e.GetProperty("last_error").GetString()!.Contains("revoked", StringComparison.Ordinal));
        Assert.Contains(withdrawn, e => e.GetProperty("last_error").GetString()!.Contains("accepted", StringComparison.Ordinal));
        var failed = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/emails/?state=failed&limit=100"));
        Assert.Equal(0, failed.GetProperty("total").GetInt32());
        var page = await operatorClient.GetStringAsync("/admin/emails");
        Assert.Contains(">0 failed</a>", page, StringComparison.Ordinal);
        Assert.Contains(">4 withdrawn</a>", page, StringComparison.Ordinal);
        foreach (var email in withdrawn)
        {
            await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/emails/{email.GetProperty("uuid").GetGuid()}/retry", null), HttpStatusCode.Conflict, "email_withdrawn");
        }
        Assert.Equal(4, await quiet.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .CountAsync(e => e.WithdrawnUtc != null && e.Body == "")));
    }

    [Fact]
    public async Task AnInvitationRevokedOnTheOrganizationPage_IsNotEmailed_AsOneRevokedThroughTheApi()
    {
        await using var quiet = MailApp.WithoutBackgroundSender();
        await quiet.InitializeAsync();
        var owner = await quiet.SignUpAsync();
        var invitee = $"page-revoked-{Guid.NewGuid():N}@tests.example";
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var revoked = await owner.Client.SubmitAsync("/organization", "invitation-action", new() { ["revoke"] = invitation.GetProperty("uuid").GetGuid().ToString() });
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        while (await quiet.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None) > 0)
        {
        }

        Assert.DoesNotContain(quiet.Smtp.Messages, m => m.Recipients.Contains(invitee));
        Assert.Equal(1, await quiet.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails
            .CountAsync(e => e.Recipient == invitee && e.WithdrawnUtc != null)));
    }

    [Fact]
    public async Task AnEmailWithdrawnWhileItIsBeingSent_StaysWithdrawn_WhenTheServerDefersIt()
    {
        await using var quiet = MailApp.WithoutBackgroundSender();
        await quiet.InitializeAsync();
        var owner = await quiet.SignUpAsync();
        var invitee = $"mid-send-{Guid.NewGuid():N}@tests.example";
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        var gate = quiet.Smtp.HoldRecipient(invitee);

        var pass = quiet.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        await quiet.Smtp.Held.Task.WaitAsync(TimeSpan.FromSeconds(20)); // claimed and being sent
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/invitations/{invitation.GetProperty("uuid").GetGuid()}"), HttpStatusCode.NoContent);
        gate.SetResult("450 4.2.0 mailbox busy"); // the send fails in a way that would be tried again
        await pass;

        var stored = await StoredInAsync(quiet, invitee);
        Assert.NotNull(stored.FailedUtc);
        Assert.StartsWith("Withdrawn before it was sent", stored.LastError, StringComparison.Ordinal);
        quiet.Clock.Advance(TimeSpan.FromHours(8));
        Assert.Equal(0, await quiet.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None));
        Assert.DoesNotContain(quiet.Smtp.Messages, m => m.Recipients.Contains(invitee));
    }

    [Fact]
    public async Task AnEmailWithdrawnWhileItIsBeingSent_ThatWentOutAfterAll_CountsAsSent_NotWithdrawn()
    {
        await using var quiet = MailApp.WithoutBackgroundSender();
        await quiet.InitializeAsync();
        var owner = await quiet.SignUpAsync();
        var invitee = $"sent-anyway-{Guid.NewGuid():N}@tests.example";
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        var gate = quiet.Smtp.HoldRecipient(invitee);

        var pass = quiet.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        await quiet.Smtp.Held.Task.WaitAsync(TimeSpan.FromSeconds(20)); // claimed and being sent
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/invitations/{invitation.GetProperty("uuid").GetGuid()}"), HttpStatusCode.NoContent);
        gate.SetResult("250 2.1.5 OK"); // the server takes it: it went out
        await pass;

        Assert.Contains(quiet.Smtp.Messages, m => m.Message.To.ToString().Contains(invitee, StringComparison.Ordinal));
        var operatorClient = await quiet.OperatorAsync();
        var withdrawn = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/emails/?state=withdrawn&limit=100"));
        Assert.DoesNotContain(withdrawn.GetProperty("items").EnumerateArray(), e => e.GetProperty("recipient").GetString() == invitee);
        var sent = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/emails/?state=sent&limit=100"));
        Assert.Equal("sent", sent.GetProperty("items").EnumerateArray().Single(e => e.GetProperty("recipient").GetString() == invitee).GetProperty("state").GetString());
        Assert.Contains(">0 withdrawn</a>", await operatorClient.GetStringAsync("/admin/emails"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SentEmails_AreDeletedAfterAMonth()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"old-{Guid.NewGuid():N}@tests.example";
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);
        await WaitForAsync(invitee, e => e.SentUtc is not null);

        app.Clock.Advance(TimeSpan.FromDays(31));
        await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.CountAsync(e => e.Recipient == invitee)));
    }

    [Fact]
    public async Task APasswordSentInTheClearToAnotherHost_IsRefusedAtStartUp()
    {
        await using var database = TestDatabase.Create();
        await using var misconfigured = new AnotherProcess(database, new Dictionary<string, string?>
        {
            ["Mail:SmtpHost"] = "smtp.example.com",
            ["Mail:SmtpSecurity"] = "None",
            ["Mail:From"] = "no-reply@agentmarket.test",
            ["Mail:SmtpUsername"] = "mailer",
            ["Mail:SmtpPassword"] = "secret",
        });
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await misconfigured.InitializeAsync());
        Assert.Contains("would send the SMTP password in the clear", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Mail:From", null, "Mail:From must be a sender address")]
    [InlineData("Mail:From", "not an address", "Mail:From must be a sender address")]
    [InlineData("Mail:SmtpPassword", null, "Mail:SmtpUsername and Mail:SmtpPassword go together")]
    public async Task AnIncompleteMailConfiguration_StopsStartUp_WithAClearMessage(string key, string? value, string expected)
    {
        await using var database = TestDatabase.Create();
        var settings = new Dictionary<string, string?>
        {
            ["Mail:SmtpHost"] = "127.0.0.1",
            ["Mail:From"] = "no-reply@agentmarket.test",
            ["Mail:SmtpUsername"] = "mailer",
            ["Mail:SmtpPassword"] = "secret",
        };
        settings[key] = value;
        await using var misconfigured = new AnotherProcess(database, settings);
        var refused = await Assert.ThrowsAnyAsync<Exception>(async () => await misconfigured.InitializeAsync());
        Assert.Contains(expected, refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Moves the clock past the longest pause until the email arrives: the sender may set its pause just after a move
    /// (it records the email's result first), so one move is not always enough.
    /// </summary>
    async Task ReceivedAfterThePauseAsync(string recipient)
    {
        for (var moves = 0; moves < 20; moves++)
        {
            app.Clock.Advance(TimeSpan.FromMinutes(16));
            await Task.Delay(TimeSpan.FromSeconds(1));
            if (app.Smtp.Messages.Any(m => m.Recipients.Contains(recipient)))
            {
                return;
            }
        }
        throw new TimeoutException($"No email reached {recipient} after the pauses.");
    }

    async Task<OutboxEmail> WaitForAsync(string recipient, Func<OutboxEmail, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var stored = await StoredAsync(recipient);
            if (condition(stored))
            {
                return stored;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The email to {recipient} stayed at {stored.Attempts} attempts, sent {stored.SentUtc}, failed {stored.FailedUtc}, next {stored.NextAttemptUtc:O} (now {app.Clock.GetUtcNow():O}), error {stored.LastError}.");
            }
            await Task.Delay(50);
        }
    }

    Task<OutboxEmail> StoredAsync(string recipient) => StoredInAsync(app, recipient);

    static Task<OutboxEmail> StoredInAsync(AgentMarketApp app, string recipient) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.AsNoTracking().SingleAsync(e => e.Recipient == recipient));
}
