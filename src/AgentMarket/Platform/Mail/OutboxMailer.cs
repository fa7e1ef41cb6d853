using AgentMarket.Admin.Metrics;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;

namespace AgentMarket.Platform.Mail;

/// <summary>
/// Sends the outbox's emails over SMTP.
/// <list type="bullet">
/// <item>A pass first connects and signs in; until that works nothing is claimed and no email is charged an attempt,
/// so an outage or a wrong password only pauses sending (waits doubling from 30 s to 15 min).</item>
/// <item>Each email is then claimed just before it is sent (a conditional update that counts the attempt and sets a
/// lease in <see cref="OutboxEmail.NextAttemptUtc"/>), so replicas never send one together.</item>
/// <item>A 5xx refusal of the recipient or of the message gives the email up. A refusal that is about this server's
/// configuration (a 5.7.x policy answer such as "relaying denied", a refused sender) ends the pass and pauses sending
/// without charging the email. Anything else is tried again, waits doubling from a minute, up to
/// <see cref="MailOptions.MaxAttempts"/>.</item>
/// <item>An email past its <see cref="OutboxEmail.ExpiresUtc"/> (a reset link that no longer works) is given up unsent.</item>
/// <item>A sent email's body is emptied: it may hold a link's secret, and the outbox is not an archive.</item>
/// </list>
/// Delivery is at least once: a process that stops between the server's acceptance and the record sends the email
/// again after the lease; the message id stays the same, so mail systems can tell.
/// </summary>
sealed class OutboxMailer(IServiceScopeFactory scopes, IOptions<MailOptions> options, TimeProvider clock, ILogger<OutboxMailer> logger) : PeriodicJob
{
    const int Batch = 50;
    static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMinutes(1);
    static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(6);
    static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(30);
    static readonly TimeSpan MaxPause = TimeSpan.FromMinutes(15);

    // Sent emails are kept a month, given-up ones three (for the operator's page), then deleted, once an hour.
    static readonly TimeSpan KeepSent = TimeSpan.FromDays(30);
    static readonly TimeSpan KeepFailed = TimeSpan.FromDays(90);
    static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    DateTime _pausedUntilUtc;
    int _pausesInARow;
    DateTime _nextPruneUtc;

    MailOptions Options => options.Value;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(Options.PollIntervalSeconds);

    protected override TimeProvider Clock => clock;

    protected override string MetricName => "mail";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Options.SenderEnabled)
        {
            return;
        }
        if (!Options.IsConfigured)
        {
            logger.LogWarning("Mail:SmtpHost is not set: invitations, password resets and alerts wait in the outbox until an SMTP server is configured.");
            return;
        }
        await base.ExecuteAsync(stoppingToken);
    }

    protected override async Task TickAsync(CancellationToken ct)
    {
        // Keep going while a whole batch went out, instead of one batch per poll interval.
        while (await RunOnceAsync(ct) == Batch && !ct.IsCancellationRequested)
        {
        }
    }

    protected override void LogFailure(Exception exception) => logger.LogError(exception, "Sending the outbox's emails failed; retrying next tick");

    /// <summary>One pass over the due emails, on one SMTP connection. Returns how many it tried.</summary>
    public async Task<int> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (now < _pausedUntilUtc)
        {
            return 0;
        }
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await PruneIfDueAsync(db, now, ct);
        // One read per poll, no write unless something is due: an idle poll must not take SQLite's write lock.
        var candidates = await Due(db, now).OrderBy(e => e.CreatedUtc)
            .Select(e => new { e.Id, Expired = e.ExpiresUtc != null && e.ExpiresUtc <= now }).Take(Batch).ToListAsync(ct);
        await ExpireAsync(db, [.. candidates.Where(c => c.Expired).Select(c => c.Id)], now, ct);
        var due = candidates.Where(c => !c.Expired).Select(c => c.Id).ToList();
        if (due.Count == 0)
        {
            return 0;
        }
        using var smtp = new SmtpClient
        {
            Timeout = (int)TimeSpan.FromSeconds(Options.TimeoutSeconds).TotalMilliseconds,
            CheckCertificateRevocation = Options.CheckCertificateRevocation,
        };
        if (!await ConnectAsync(smtp, ct))
        {
            return 0;
        }
        var tried = 0;
        try
        {
            foreach (var id in due)
            {
                var claimedUntil = await ClaimAsync(db, id, ct);
                if (claimedUntil is null)
                {
                    continue; // another sender took it
                }
                tried++;
                var email = await db.OutboxEmails.AsNoTracking().SingleAsync(e => e.Id == id, ct);
                if (email.FailedUtc is not null)
                {
                    continue; // withdrawn since it was claimed (a revoked invitation): its body is gone, and so is its point
                }
                var outcome = await SendAsync(smtp, email, ct);
                // Recorded even when the host is stopping: the server has answered, and a lost record means a resend.
                await RecordAsync(db, email, claimedUntil.Value, outcome, CancellationToken.None);
                if (outcome.Kind == OutcomeKind.ServerRefused)
                {
                    Pause($"the mail server refused to send for this configuration: {outcome.Error}");
                    break;
                }
                if (outcome.Kind == OutcomeKind.Retry && !smtp.IsConnected)
                {
                    break; // the connection is gone: the rest stay due for the next pass
                }
            }
        }
        finally
        {
            await DisconnectAsync(smtp);
        }
        return tried;
    }

    static IQueryable<OutboxEmail> Due(AppDbContext db, DateTime now) =>
        db.OutboxEmails.Where(e => e.SentUtc == null && e.FailedUtc == null && (e.NextAttemptUtc == null || e.NextAttemptUtc <= now));

    /// <summary>Gives up, unsent, the due emails whose content no longer holds (a reset link that has expired).</summary>
    async Task ExpireAsync(AppDbContext db, List<Guid> ids, DateTime now, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return;
        }
        var expired = await Due(db, now).Where(e => ids.Contains(e.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.FailedUtc, now).SetProperty(e => e.LastError, "Expired before it could be sent.").SetProperty(e => e.Body, ""), ct);
        if (expired > 0)
        {
            PlatformMeters.EmailHandled("expired", expired);
            logger.LogWarning("{Count} emails expired in the outbox before they could be sent", expired);
        }
    }

    async Task PruneIfDueAsync(AppDbContext db, DateTime now, CancellationToken ct)
    {
        if (now < _nextPruneUtc)
        {
            return;
        }
        _nextPruneUtc = now + PruneInterval;
        var sentBefore = now - KeepSent;
        var failedBefore = now - KeepFailed;
        await db.OutboxEmails.Where(e => e.SentUtc < sentBefore || e.FailedUtc < failedBefore).ExecuteDeleteAsync(ct);
        // A given-up email is kept for operators to send again, but once its content has expired it cannot be, and its
        // body may hold a link's secret: emptied, as a sent email's is.
        await db.OutboxEmails.Where(e => e.FailedUtc != null && e.ExpiresUtc <= now && e.Body != "").ExecuteUpdateAsync(s => s.SetProperty(e => e.Body, ""), ct);
    }

    /// <summary>Connects and signs in; on failure pauses sending, with nothing claimed.</summary>
    async Task<bool> ConnectAsync(SmtpClient smtp, CancellationToken ct)
    {
        try
        {
            await smtp.ConnectAsync(Options.SmtpHost!, Options.SmtpPort, SocketOptions(Options.SmtpSecurity), ct); // validated at start-up
            if (!string.IsNullOrEmpty(Options.SmtpUsername))
            {
                await smtp.AuthenticateAsync(Options.SmtpUsername, Options.SmtpPassword!, ct);
            }
            _pausesInARow = 0;
            return true;
        }
        catch (Exception failure) when (failure is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Unreachable, TLS refused or not offered, sign-in refused: all the configuration's or the server's.
            Pause($"cannot connect or sign in to {Options.SmtpHost}:{Options.SmtpPort}: {failure.Message}");
            await DisconnectAsync(smtp);
            return false;
        }
    }

    void Pause(string reason)
    {
        var pause = FirstPause * Math.Pow(2, Math.Min(_pausesInARow++, 10));
        pause = pause < MaxPause ? pause : MaxPause;
        _pausedUntilUtc = clock.GetUtcNow().UtcDateTime + pause;
        logger.LogWarning("Sending email paused for {Pause}: {Reason}", pause, reason);
    }

    /// <summary>Takes the email for one send, counting the attempt; null when it is no longer due (another sender has it).</summary>
    async Task<DateTime?> ClaimAsync(AppDbContext db, Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Each step of a send may take the timeout; ten of them is more than one message takes on a live connection. In
        // whole microseconds, as PostgreSQL stores it, so the lease read back equals this value.
        var until = Timestamps.WholeMicroseconds(now.AddSeconds(10 * Options.TimeoutSeconds));
        var claimed = await Due(db, now).Where(e => e.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.NextAttemptUtc, until).SetProperty(e => e.Attempts, e => e.Attempts + 1), ct);
        return claimed == 1 ? until : null;
    }

    enum OutcomeKind
    {
        Sent,
        Retry,

        /// <summary>Refused for good: this recipient or this message will not be accepted.</summary>
        Refused,

        /// <summary>Refused for a reason of this server's configuration, not of the email.</summary>
        ServerRefused,
    }

    sealed record Outcome(OutcomeKind Kind, string? Error = null);

    async Task<Outcome> SendAsync(SmtpClient smtp, OutboxEmail email, CancellationToken ct)
    {
        MimeMessage message;
        try
        {
            message = Compose(email);
        }
        catch (ParseException)
        {
            return new Outcome(OutcomeKind.Refused, "The recipient is not a valid email address.");
        }
        try
        {
            await smtp.SendAsync(message, ct);
            return new Outcome(OutcomeKind.Sent);
        }
        catch (SmtpCommandException refused)
        {
            var error = $"The mail server refused it: {(int)refused.StatusCode} {refused.Message}";
            return new Outcome(Classify(refused), error);
        }
        catch (Exception failure) when (failure is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return new Outcome(OutcomeKind.Retry, $"Sending failed: {failure.Message}");
        }
    }

    /// <summary>
    /// 5xx answers about the recipient or the message are final; 5.7.x answers are policy (relaying denied, sender not
    /// owned, authentication required), so they are about this server's setup, as a refused sender is; 4xx waits.
    /// </summary>
    static OutcomeKind Classify(SmtpCommandException refused)
    {
        var code = (int)refused.StatusCode;
        if (refused.ErrorCode == SmtpErrorCode.SenderNotAccepted || refused.Message.TrimStart().StartsWith("5.7.", StringComparison.Ordinal)
            || refused.ErrorCode == SmtpErrorCode.UnexpectedStatusCode)
        {
            return code >= 500 ? OutcomeKind.ServerRefused : OutcomeKind.Retry;
        }
        return code >= 500 ? OutcomeKind.Refused : OutcomeKind.Retry;
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
        if (outcome.Kind == OutcomeKind.Sent)
        {
            // Whoever holds the claim now: the server took the message, so it is sent (a sender that outlived its lease
            // and one that took it over may both have sent it; recording either is right).
            await db.OutboxEmails.Where(e => e.Id == email.Id && e.SentUtc == null)
                .ExecuteUpdateAsync(s => s.SetProperty(e => e.SentUtc, now).SetProperty(e => e.FailedUtc, (DateTime?)null)
                    .SetProperty(e => e.NextAttemptUtc, (DateTime?)null).SetProperty(e => e.LastError, (string?)null).SetProperty(e => e.Body, ""), ct);
            PlatformMeters.EmailHandled("sent");
            return;
        }
        var attempts = email.Attempts; // already counted by the claim
        var chargeable = outcome.Kind != OutcomeKind.ServerRefused;
        var givenUp = outcome.Kind == OutcomeKind.Refused || (chargeable && attempts >= Options.MaxAttempts);
        DateTime? retryAt = givenUp ? null : now + (chargeable ? RetryDelay(attempts) : FirstPause);
        var error = outcome.Error is { Length: > OutboxEmail.MaxErrorLength } text ? text[..(OutboxEmail.MaxErrorLength - 1)] + "…" : outcome.Error;
        // Only under this claim: a send that outlived it was claimed again, and that sender records its own result. Not
        // for an email withdrawn meanwhile either, which must not come back to be tried again.
        var recorded = await db.OutboxEmails.Where(e => e.Id == email.Id && e.NextAttemptUtc == claimedUntil && e.SentUtc == null && e.FailedUtc == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(e => e.Attempts, chargeable ? attempts : attempts - 1) // a refusal of the configuration is not the email's attempt
                .SetProperty(e => e.FailedUtc, givenUp ? now : null)
                .SetProperty(e => e.NextAttemptUtc, retryAt)
                .SetProperty(e => e.LastError, error), ct);
        if (recorded == 1)
        {
            PlatformMeters.EmailHandled(givenUp ? "failed" : "deferred");
            logger.LogWarning("Email {EmailId} was not sent (attempt {Attempt}{GivenUp}): {Error}", email.Id, attempts, givenUp ? ", given up" : "", outcome.Error);
        }
    }

    static async Task DisconnectAsync(SmtpClient smtp)
    {
        if (!smtp.IsConnected)
        {
            return;
        }
        try
        {
            await smtp.DisconnectAsync(quit: true, CancellationToken.None);
        }
        catch (Exception exception) when (exception is TimeoutException or IOException or SmtpProtocolException or SmtpCommandException)
        {
            // Everything is recorded by now; a server that does not answer QUIT changes nothing.
        }
    }

    /// <summary>Doubling from a minute, up to six hours, each wait 0–25% longer so retries do not arrive together.</summary>
    static TimeSpan RetryDelay(int attempts)
    {
        var delay = FirstRetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        delay = delay < MaxRetryDelay ? delay : MaxRetryDelay;
        return delay * (1 + Random.Shared.NextDouble() / 4);
    }

    static SecureSocketOptions SocketOptions(SmtpSecurity security) => security switch
    {
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        SmtpSecurity.None => SecureSocketOptions.None,
        _ => SecureSocketOptions.StartTls,
    };
}
