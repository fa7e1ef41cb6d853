using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>
/// A link, emailed to the address an account left, that undoes the change (ADR-142): single use, valid for a week,
/// only the hash of its secret is stored.
/// </summary>
public sealed class EmailRevertToken : IEmailedLink
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }

    /// <summary>The address the account left, which the link puts back; normalized as <see cref="User.Email"/>.</summary>
    public required string OldEmail { get; init; }

    /// <summary>The address the change moved the account to, shown on the link's page.</summary>
    public required string NewEmail { get; init; }
    public required string TokenHash { get; init; }

    /// <summary>When the change was made: an undo ends the links of this change and of later ones, not of earlier ones.</summary>
    public DateTime CreatedUtc { get; init; }
    public DateTime ExpiresUtc { get; init; }

    /// <summary>When the link was used, or ended by the use of an earlier change's link.</summary>
    public DateTime? UsedUtc { get; set; }
}

sealed class EmailRevertTokenConfiguration : IEntityTypeConfiguration<EmailRevertToken>
{
    public void Configure(EntityTypeBuilder<EmailRevertToken> e)
    {
        e.ToTable("email_revert_tokens");
        e.Property(x => x.OldEmail).HasMaxLength(254);
        e.Property(x => x.NewEmail).HasMaxLength(254);
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => new { x.UserId, x.CreatedUtc });
    }
}
