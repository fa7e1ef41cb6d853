using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>An owner's or manager's invitation for an email address to join with a role. The link carries a secret; only its hash is stored.</summary>
public sealed class Invitation
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string Email { get; init; }
    public MembershipRole Role { get; init; }
    public required string TokenHash { get; init; }
    public Guid InvitedByUserId { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime ExpiresUtc { get; init; }
    public DateTime? AcceptedUtc { get; set; }
    public Guid? AcceptedByUserId { get; set; }
    public DateTime? RevokedUtc { get; set; }

    public Organization? Organization { get; init; }

    public InvitationState StateAt(DateTime nowUtc) =>
        AcceptedUtc is not null ? InvitationState.Accepted
        : RevokedUtc is not null ? InvitationState.Revoked
        : ExpiresUtc <= nowUtc ? InvitationState.Expired
        : InvitationState.Pending;
}

public enum InvitationState
{
    Pending,
    Accepted,
    Revoked,
    Expired,
}

sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> e)
    {
        e.ToTable("invitations");
        e.Property(x => x.Email).HasMaxLength(254);
        e.Property(x => x.TokenHash).HasMaxLength(64);
        e.HasOne(x => x.Organization).WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.TokenHash).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.Email });
    }
}
