using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Audit;

/// <summary>
/// One security- or money-relevant action: who did what to which object, when, from where, with a small before/after
/// summary. Append-only (ADR-080): <see cref="AuditProtection"/> refuses updates and deletes in the application and
/// database triggers refuse them underneath. Not <c>ITenantOwned</c>: operators read across organizations and the
/// per-organization view filters explicitly.
/// </summary>
public sealed class AuditEntry
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public DateTime OccurredUtc { get; init; }
    public required string Action { get; init; }
    public Guid? ActorUserId { get; init; }
    public string? ActorEmail { get; init; }
    public Guid? OrganizationId { get; init; }
    public string? TargetType { get; init; }
    public string? TargetId { get; init; }

    /// <summary>Small JSON objects of the fields that changed; never secrets.</summary>
    public string? Before { get; init; }
    public string? After { get; init; }
    public string? ClientIp { get; init; }
}

sealed class AuditEntryConfiguration : IEntityTypeConfiguration<AuditEntry>
{
    public void Configure(EntityTypeBuilder<AuditEntry> e)
    {
        e.ToTable("audit_entries");
        e.Property(x => x.Action).HasMaxLength(60);
        e.Property(x => x.ActorEmail).HasMaxLength(254);
        e.Property(x => x.TargetType).HasMaxLength(60);
        e.Property(x => x.TargetId).HasMaxLength(100);
        e.Property(x => x.Before).HasMaxLength(4000);
        e.Property(x => x.After).HasMaxLength(4000);
        e.Property(x => x.ClientIp).HasMaxLength(64);
        e.HasIndex(x => x.OccurredUtc);
        e.HasIndex(x => new { x.OrganizationId, x.OccurredUtc });
        e.HasIndex(x => new { x.ActorUserId, x.OccurredUtc });
        e.HasIndex(x => new { x.Action, x.OccurredUtc });
    }
}
