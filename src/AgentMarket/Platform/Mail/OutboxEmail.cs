using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Platform.Mail;

/// <summary>
/// An email waiting to be sent. Written in the same transaction as the change that causes it (an invitation, a
/// low-balance alert), so a crash can neither send mail for a change that rolled back nor lose mail for one that committed;
/// <see cref="OutboxMailer"/> sends it.
/// </summary>
public sealed class OutboxEmail
{
    public const int MaxErrorLength = 1000;

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Recipient { get; init; }
    public required string Subject { get; init; }
    public required string Body { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? SentUtc { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    /// <summary>Not before then: the next try after a failure, or the end of a sender's claim while it sends.</summary>
    public DateTime? NextAttemptUtc { get; set; }

    /// <summary>Not sent after then: what it says stops being true (a reset link expires). Null: no deadline.</summary>
    public DateTime? ExpiresUtc { get; init; }

    /// <summary>Given up: the server refused it for good, it failed <see cref="MailOptions.MaxAttempts"/> times, it expired, or it was withdrawn.</summary>
    public DateTime? FailedUtc { get; set; }

    /// <summary>
    /// Given up on purpose, unsent, because what it says no longer holds (<see cref="OutboxWithdrawals.WithdrawUnsentAsync"/>):
    /// not a delivery failure, so operators see it apart from those. <see cref="FailedUtc"/> is set too, which is what
    /// keeps every sender away from it.
    /// </summary>
    public DateTime? WithdrawnUtc { get; set; }

    /// <summary>
    /// What the email is about when ending that must stop the email too (an invitation, a user's reset or email change links): see
    /// <see cref="OutboxWithdrawals.WithdrawUnsentAsync"/>. Null: nothing withdraws it.
    /// </summary>
    public string? About { get; init; }

    public const int MaxAboutLength = 320; // an invitation's: a prefix, an organization id and a 254-character address

    /// <summary>The pending invitation of <paramref name="email"/> to an organization (there is at most one: a new one revokes the last).</summary>
    public static string AboutInvitation(Guid organizationId, string email) => $"invitation:{organizationId}:{email}";

    /// <summary>A user's password reset links (only the latest works, and a new password ends them all).</summary>
    public static string AboutPasswordReset(Guid userId) => $"password-reset:{userId}";

    /// <summary>A user's link to move their account to a new address (only the latest works, and a new password ends it).</summary>
    public static string AboutEmailChange(Guid userId) => $"email-change:{userId}";
}

public static class OutboxWithdrawals
{
    /// <summary>
    /// Gives up, unsent, the emails about <paramref name="about"/> that have not gone out yet, because what they say no
    /// longer holds (a revoked invitation, a replaced reset link). They expire now, so an operator cannot send them again,
    /// and their bodies, which may hold a link's secret, are emptied. An email a sender has already claimed may still
    /// arrive: the link in it no longer works.
    /// </summary>
    public static Task<int> WithdrawUnsentAsync(this IQueryable<OutboxEmail> emails, string about, string reason, DateTime now, CancellationToken ct)
    {
        var error = $"Withdrawn before it was sent: {reason}"; // one parameter, not a concatenation in SQL
        return emails.Where(e => e.About == about && e.SentUtc == null && e.FailedUtc == null)
            .ExecuteUpdateAsync(s => s
                .SetProperty(e => e.FailedUtc, now)
                .SetProperty(e => e.WithdrawnUtc, now)
                .SetProperty(e => e.ExpiresUtc, now)
                .SetProperty(e => e.LastError, error)
                .SetProperty(e => e.Body, ""), ct);
    }
}

sealed class OutboxEmailConfiguration : IEntityTypeConfiguration<OutboxEmail>
{
    public void Configure(EntityTypeBuilder<OutboxEmail> e)
    {
        e.ToTable("outbox_emails");
        e.Property(x => x.Recipient).HasMaxLength(254);
        e.Property(x => x.Subject).HasMaxLength(300);
        e.Property(x => x.LastError).HasMaxLength(OutboxEmail.MaxErrorLength);
        e.Property(x => x.About).HasMaxLength(OutboxEmail.MaxAboutLength);
        e.HasIndex(x => x.About).HasFilter("about IS NOT NULL");
        e.HasIndex(x => x.SentUtc);
        e.HasIndex(x => x.CreatedUtc); // the operator's list, newest first
    }
}
