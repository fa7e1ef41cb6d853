using System.Net.Sockets;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;

namespace AgentMarket.Platform.Mail;

/// <summary>
/// Sends the outbox's emails over SMTP. Each email is claimed just before it is sent (a conditional update that sets a
/// lease in <see cref="OutboxEmail.NextAttemptUtc"/>), so replicas never send one together, and its result is recorded
/// only under that claim. A refusal for good (a 5xx answer to the recipient or the message) gives the email up at once;
/// anything else (the server unreachable or busy, a 4xx answer) is tried again later, waits doubling from a minute.
/// Delivery is at least once: a process that stops between the server's acceptance and the record sends the email
/// again after the lease; the message id stays the same, so mail systems can tell.
/// </summary>
sealed class OutboxMailer(IServiceScopeFactory scopes, IOptions<MailOptions> options, TimeProvider clock, ILogger<OutboxMailer> logger) : BackgroundService
{
    const int Batch = 50;
    static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMinutes(1);
    static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(6);

    MailOptions Options => options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Options.SenderEnabled)
        {
            return;
        }
        if (!Options.IsConfigured)
        {
            logger.LogInformation("Mail:SmtpHost is not set: emails wait in the outbox until an SMTP server is configured.");
            return;
        }
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Options.PollIntervalSeconds), clock);
        do
        {
            try
            {
                // Keep going while a whole batch went out, instead of one batch per poll interval.
                while (await RunOnceAsync(stoppingToken) == Batch && !stoppingToken.IsCancellationRequested)
                {
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "Sending the outbox's emails failed; retrying next tick");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>One pass over the due emails, on one SMTP connection. Returns how many it tried.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var due = await Due(db, now).OrderBy(e => e.CreatedUtc).Select(e => e.Id).Take(Batch).ToListAsync(ct);
        if (due.Count == 0)
        {
            return 0;
        }
        using var smtp = new SmtpClient { Timeout = (int)TimeSpan.FromSeconds(Options.TimeoutSeconds).TotalMilliseconds };
        var tried = 0;
        foreach (var id in due)
        {
            var claimedUntil = await ClaimAsync(db, id, ct);
            if (claimedUntil is null)
            {
                continue; // another sender took it
            }
            tried++;
            var email = await db.OutboxEmails.AsNoTracking().SingleAsync(e => e.Id == id, ct);
            var outcome = await SendAsync(smtp, email, ct);
            await RecordAsync(db, email, claimedUntil.Value, outcome, ct);
            if (outcome.ConnectionLost)
            {
                break; // the rest stay due for the next pass
            }
        }
        if (smtp.IsConnected)
        {
            await smtp.DisconnectAsync(quit: true, ct);
        }
        return tried;
    }

    static IQueryable<OutboxEmail> Due(AppDbContext db, DateTime now) =>
        db.OutboxEmails.Where(e => e.SentUtc == null && e.FailedUtc == null && (e.NextAttemptUtc == null || e.NextAttemptUtc <= now));

    /// <summary>Takes the email for one send, counting the attempt; null when it is no longer due (another sender has it).</summary>
    async Task<DateTime?> ClaimAsync(AppDbContext db, Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Long enough for a connection, a sign-in and one message, each within the timeout, so a live send keeps its claim.
        var until = now.AddSeconds(4 * Options.TimeoutSeconds);
        var claimed = await Due(db, now).Where(e => e.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.NextAttemptUtc, until).SetProperty(e => e.Attempts, e => e.Attempts + 1), ct);
        return claimed == 1 ? until : null;
    }

    sealed record Outcome(bool Sent, bool Permanent, bool ConnectionLost, string? Error);

    async Task<Outcome> SendAsync(SmtpClient smtp, OutboxEmail email, CancellationToken ct)
    {
        MimeMessage message;
        try
        {
            message = Compose(email);
        }
        catch (ParseException)
        {
            return new Outcome(false, Permanent: true, ConnectionLost: false, "The recipient is not a valid email address.");
        }
        try
        {
            if (!smtp.IsConnected)
            {
                await smtp.ConnectAsync(Options.SmtpHost!, Options.SmtpPort, SocketOptions(Options.SmtpSecurity), ct);
                if (!string.IsNullOrEmpty(Options.SmtpUsername))
                {
                    await smtp.AuthenticateAsync(Options.SmtpUsername, Options.SmtpPassword!, ct);
                }
            }
            await smtp.SendAsync(message, ct);
            return new Outcome(true, false, false, null);
        }
        catch (SmtpCommandException refused)
        {
            // The connection stays usable after a refused command. A 5xx refusal of this recipient or message is final;
            // a refused sender is the configuration's fault, so the email waits for it to be fixed.
            var permanent = (int)refused.StatusCode >= 500 && refused.ErrorCode != SmtpErrorCode.SenderNotAccepted;
            return new Outcome(false, permanent, ConnectionLost: !smtp.IsConnected, $"The mail server refused it: {(int)refused.StatusCode} {refused.Message}");
        }
        catch (Exception failure) when (failure is SocketException or IOException or ProtocolException or AuthenticationException or SslHandshakeException
                                        or ServiceNotConnectedException or ServiceNotAuthenticatedException or TimeoutException
                                        || failure is OperationCanceledException && !ct.IsCancellationRequested)
        {
            return new Outcome(false, false, ConnectionLost: true, $"The mail server could not be reached or failed: {failure.Message}");
        }
    }

    MimeMessage Compose(OutboxEmail email)
    {
        var from = MailboxAddress.Parse(Options.From!); // validated at start-up
        var message = new MimeMessage
        {
            // The same id on every attempt, so a copy sent again after a lost acknowledgement can be recognised.
            MessageId = $"{email.Id:N}@{from.Domain}",
            Date = new DateTimeOffset(DateTime.SpecifyKind(email.CreatedUtc, DateTimeKind.Utc)),
            Subject = email.Subject,
            Body = new TextPart("plain") { Text = email.Body },
        };
        message.From.Add(from);
        message.To.Add(MailboxAddress.Parse(email.Recipient));
        return message;
    }

    async Task RecordAsync(AppDbContext db, OutboxEmail email, DateTime claimedUntil, Outcome outcome, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var attempts = email.Attempts; // already counted by the claim
        var givenUp = !outcome.Sent && (outcome.Permanent || attempts >= Options.MaxAttempts);
        DateTime? retryAt = outcome.Sent || givenUp ? null : now + RetryDelay(attempts);
        var error = outcome.Error is { Length: > OutboxEmail.MaxErrorLength } text ? text[..(OutboxEmail.MaxErrorLength - 1)] + "…" : outcome.Error;
        // Only under this claim: a send that outlived it was claimed again, and that sender records its own result.
        await db.OutboxEmails.Where(e => e.Id == email.Id && e.NextAttemptUtc == claimedUntil && e.SentUtc == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(e => e.SentUtc, outcome.Sent ? now : null)
                .SetProperty(e => e.FailedUtc, givenUp ? now : null)
                .SetProperty(e => e.NextAttemptUtc, retryAt)
                .SetProperty(e => e.LastError, error), ct);
        if (!outcome.Sent)
        {
            logger.LogWarning("Email {EmailId} was not sent (attempt {Attempt}{GivenUp}): {Error}", email.Id, attempts, givenUp ? ", given up" : "", outcome.Error);
        }
    }

    static TimeSpan RetryDelay(int attempts)
    {
        var delay = FirstRetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return delay < MaxRetryDelay ? delay : MaxRetryDelay;
    }

    static SecureSocketOptions SocketOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };
}
