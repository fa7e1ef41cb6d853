using AgentMarket.Audit;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Mail;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

public enum EmailState
{
    Pending,
    Sent,
    Failed,

    /// <summary>Given up on purpose, unsent: what it said no longer held (a revoked invitation, a replaced reset link).</summary>
    Withdrawn,
}

/// <summary>An outbox email as operators see it: never its body, which may hold a link's secret.</summary>
public sealed record AdminEmailResponse(
    Guid Uuid, string Recipient, string Subject, EmailState State, int Attempts, string? LastError,
    DateTime CreatedAt, DateTime? NextAttemptAt, DateTime? SentAt, DateTime? FailedAt, DateTime? WithdrawnAt, DateTime? ExpiresAt);

public sealed record EmailCounts(int Pending, int Failed, int Withdrawn, int SentLastWeek);

/// <summary>
/// The operator's view of the email outbox: what waits, what failed and why, what was withdrawn, and sending a failed
/// email again. Outbox
/// emails belong to no organization, so no tenant scope is needed to see them; the endpoints and page are operators' only.
/// </summary>
public sealed class EmailOutbox(AppDbContext db, AuditLog audit, TimeProvider clock)
{
    public sealed record Failure(int Status, string Code, string Message);

    public Task<Page<AdminEmailResponse>> ListAsync(EmailState? state, PageRequest page, CancellationToken ct)
    {
        var query = db.OutboxEmails.AsNoTracking();
        query = state switch
        {
            EmailState.Pending => query.Where(e => e.SentUtc == null && e.FailedUtc == null),
            EmailState.Sent => query.Where(e => e.SentUtc != null),
            EmailState.Failed => query.Where(e => e.FailedUtc != null && e.WithdrawnUtc == null),
            // Withdrawn while a sender had it: it went out after all, and counts as sent.
            EmailState.Withdrawn => query.Where(e => e.WithdrawnUtc != null && e.SentUtc == null),
            _ => query,
        };
        return page.ToPageAsync(query.OrderByDescending(e => e.CreatedUtc).ThenByDescending(e => e.Id).Select(Response), ct);
    }

    public async Task<EmailCounts> CountsAsync(CancellationToken ct)
    {
        var weekAgo = clock.GetUtcNow().UtcDateTime.AddDays(-7);
        return new EmailCounts(
            await db.OutboxEmails.CountAsync(e => e.SentUtc == null && e.FailedUtc == null, ct),
            await db.OutboxEmails.CountAsync(e => e.FailedUtc != null && e.WithdrawnUtc == null, ct),
            await db.OutboxEmails.CountAsync(e => e.WithdrawnUtc != null && e.SentUtc == null, ct),
            await db.OutboxEmails.CountAsync(e => e.SentUtc > weekAgo, ct));
    }

    /// <summary>Queues a failed email again with fresh attempts (after the mail server's setup was fixed), unless it has expired.</summary>
    public async Task<(AdminEmailResponse? Email, Failure? Failure)> RetryAsync(Guid id, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // The retry and its audit entry together, or neither.
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var retried = await db.OutboxEmails
            .Where(e => e.Id == id && e.FailedUtc != null && e.WithdrawnUtc == null && e.SentUtc == null && (e.ExpiresUtc == null || e.ExpiresUtc > now))
            .ExecuteUpdateAsync(s => s.SetProperty(e => e.FailedUtc, (DateTime?)null).SetProperty(e => e.NextAttemptUtc, (DateTime?)null)
                .SetProperty(e => e.Attempts, 0).SetProperty(e => e.LastError, (string?)null), ct);
        var email = await db.OutboxEmails.AsNoTracking().Where(e => e.Id == id).Select(Response).FirstOrDefaultAsync(ct);
        if (retried == 0)
        {
            return (null, email switch
            {
                null => new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The email was not found."),
                { State: EmailState.Sent } => new Failure(StatusCodes.Status409Conflict, "email_sent", "This email was sent."),
                { State: EmailState.Pending } => new Failure(StatusCodes.Status409Conflict, "email_pending", "This email is still being sent; nothing to retry."),
                { State: EmailState.Withdrawn } => new Failure(StatusCodes.Status409Conflict, "email_withdrawn", "This email was withdrawn: what it said (an invitation, a reset link) was revoked or replaced."),
                _ => new Failure(StatusCodes.Status409Conflict, "email_expired", "This email expired: what it says (a reset link, an invitation) no longer holds."),
            });
        }
        audit.Record(AuditActions.EmailRetried, null, "email", id, after: new { email!.Recipient, email.Subject });
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        return (email, null);
    }

    static readonly System.Linq.Expressions.Expression<Func<OutboxEmail, AdminEmailResponse>> Response = e => new AdminEmailResponse(
        e.Id, e.Recipient, e.Subject,
        e.SentUtc != null ? EmailState.Sent : e.WithdrawnUtc != null ? EmailState.Withdrawn : e.FailedUtc != null ? EmailState.Failed : EmailState.Pending,
        e.Attempts, e.LastError, e.CreatedUtc, e.NextAttemptUtc, e.SentUtc, e.FailedUtc, e.WithdrawnUtc, e.ExpiresUtc);
}
