using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Mail;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Platform;

/// <summary>An app that sends its outbox through a fake SMTP server on loopback, looking every second.</summary>
public sealed class MailApp : AgentMarketApp
{
    public const string SmtpUsername = "mailer";
    public const string SmtpPassword = "smtp-password-1";

    public FakeSmtpServer Smtp { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Mail:SmtpHost", "127.0.0.1"),
        new("Mail:SmtpPort", Smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Mail:SmtpSecurity", "None"),
        new("Mail:SmtpUsername", SmtpUsername),
        new("Mail:SmtpPassword", SmtpPassword),
        new("Mail:From", "AgentMarket <no-reply@agentmarket.test>"),
        new("Mail:PollIntervalSeconds", "1"),
    ];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Smtp.DisposeAsync();
    }
}

public class OutboxMailerTests(MailApp app) : IClassFixture<MailApp>
{
    [Fact]
    public async Task AnInvitation_IsEmailedThroughTheConfiguredServer_Once()
    {
        var owner = await app.SignUpAsync();
        var invitee = $"invitee-{Guid.NewGuid():N}@tests.example";
        var invitation = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = invitee, role = "member" }), HttpStatusCode.Created);

        var received = await ReceivedByAsync(invitee);
        Assert.Equal((MailApp.SmtpUsername, MailApp.SmtpPassword), (received.Username, received.Password));
        Assert.Equal("no-reply@agentmarket.test", received.MailFrom);
        Assert.Equal([invitee], received.Recipients);
        var from = Assert.Single(received.Message.From.Mailboxes);
        Assert.Equal(("AgentMarket", "no-reply@agentmarket.test"), (from.Name, from.Address));
        Assert.Equal(invitee, Assert.Single(received.Message.To.Mailboxes).Address);
        Assert.StartsWith("You are invited to join ", received.Message.Subject, StringComparison.Ordinal);
        Assert.Contains(invitation.GetProperty("accept_url").GetString()!, received.Message.TextBody, StringComparison.Ordinal);

        var stored = await StoredAsync(invitee);
        Assert.NotNull(stored.SentUtc);
        Assert.Equal(1, stored.Attempts);
        Assert.Equal($"{stored.Id:N}@agentmarket.test", received.Message.MessageId);

        // Sent is sent: a later pass finds nothing of it to send.
        await app.Services.GetRequiredService<OutboxMailer>().RunOnceAsync(CancellationToken.None);
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

        app.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await ReceivedByAsync(invitee);
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
        Assert.Equal(1, (await StoredAsync(invitee)).Attempts);
        Assert.DoesNotContain(app.Smtp.Messages, m => m.Recipients.Contains(invitee));
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
        Assert.DoesNotContain("secret", refused.Message, StringComparison.Ordinal);
    }

    async Task<FakeSmtpServer.Received> ReceivedByAsync(string recipient)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (app.Smtp.Messages.FirstOrDefault(m => m.Recipients.Contains(recipient)) is { } received)
            {
                return received;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"No email reached {recipient}.");
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
                throw new TimeoutException($"The email to {recipient} stayed at {stored.Attempts} attempts, sent {stored.SentUtc}, failed {stored.FailedUtc}, error {stored.LastError}.");
            }
            await Task.Delay(50);
        }
    }

    Task<OutboxEmail> StoredAsync(string recipient) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.AsNoTracking().SingleAsync(e => e.Recipient == recipient));
}
