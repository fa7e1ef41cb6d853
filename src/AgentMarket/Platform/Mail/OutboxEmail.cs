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

    /// <summary>Given up: the server refused it for good, it failed <see cref="MailOptions.MaxAttempts"/> times, or it expired.</summary>
    public DateTime? FailedUtc { get; set; }
}

sealed class OutboxEmailConfiguration : IEntityTypeConfiguration<OutboxEmail>
{
    public void Configure(EntityTypeBuilder<OutboxEmail> e)
    {
        e.ToTable("outbox_emails");
        e.Property(x => x.Recipient).HasMaxLength(254);
        e.Property(x => x.Subject).HasMaxLength(300);
        e.Property(x => x.LastError).HasMaxLength(OutboxEmail.MaxErrorLength);
        e.HasIndex(x => x.SentUtc);
        e.HasIndex(x => x.CreatedUtc); // the operator's list, newest first
    }
}
