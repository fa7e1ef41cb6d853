using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>The tenant: it owns projects, members, a wallet, subscriptions and keys.</summary>
public sealed class Organization
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public DateTime CreatedUtc { get; init; }

    /// <summary>Set by an operator: the organization's keys and widgets stop and its members can neither run nor buy; its data stays.</summary>
    public DateTime? SuspendedUtc { get; set; }
    public string? SuspensionReason { get; set; }
}

public static class OrganizationQueries
{
    /// <summary>Whether an operator suspended <paramref name="organization"/> (see <see cref="Organization.SuspendedUtc"/>).</summary>
    public static Task<bool> IsSuspendedAsync(this IQueryable<Organization> organizations, Guid organization, CancellationToken ct) =>
        organizations.AnyAsync(o => o.Id == organization && o.SuspendedUtc != null, ct);
}

/// <summary>A grouping inside an organization; every subscription lives in one. A "Default" project always exists.</summary>
public sealed class Project : Platform.Data.ITenantOwned
{
    public const string DefaultName = "Default";

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public bool IsDefault { get; init; }
    public DateTime CreatedUtc { get; init; }
}

public enum MembershipRole
{
    // Ordered from most to least privileged: CurrentTenant.HasRole compares with <=.
    Owner,
    Manager,
    Member,
}

/// <summary>User ↔ organization with a role.</summary>
public sealed class Membership
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid UserId { get; init; }
    public MembershipRole Role { get; set; }
    public DateTime CreatedUtc { get; init; }

    public Organization? Organization { get; init; }
    public User? User { get; init; }
}

sealed class OrganizationConfiguration : IEntityTypeConfiguration<Organization>
{
    public void Configure(EntityTypeBuilder<Organization> e)
    {
        e.ToTable("organizations");
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.SuspensionReason).HasMaxLength(1000);
    }
}

sealed class ProjectConfiguration : IEntityTypeConfiguration<Project>
{
    public void Configure(EntityTypeBuilder<Project> e)
    {
        e.ToTable("projects");
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.Description).HasMaxLength(2000);
        e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.OrganizationId, x.Name }).IsUnique();
    }
}

sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> e)
    {
        e.ToTable("memberships");
        e.HasOne(x => x.Organization).WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.OrganizationId, x.UserId }).IsUnique();
        e.HasIndex(x => x.UserId);
    }
}
