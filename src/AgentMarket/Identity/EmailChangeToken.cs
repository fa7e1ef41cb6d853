using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>
/// A link, emailed to a new address, that moves the user's account to it (ADR-139): single use, only the newest works,
/// only the hash of its secret is stored.
/// </summary>
public sealed class EmailChangeToken : IEmailedLink
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }

    /// <summary>Normalized as <see cref="User.Email"/>.</summary>
    public required string NewEmail { get; init; }
    public required string TokenHash { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime ExpiresUtc { get; init; }

    /// <summary>When the link was used, or replaced by a newer one, or ended by a new password.</summary>
    public DateTime? UsedUtc { get; set; }
}

sealed class EmailChangeTokenConfiguration : IEntityTypeConfiguration<EmailChangeToken>
{
    public void Configure(EntityTypeBuilder<EmailChangeToken> e)
    {
        e.ToTable("email_change_tokens");
        e.Property(x => x.NewEmail).HasMaxLength(254);
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => new { x.UserId, x.CreatedUtc });
    }
}
