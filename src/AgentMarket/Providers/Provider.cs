using AgentMarket.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers;

public enum ProviderState
{
    Pending,
    Approved,
    Rejected,
}

/// <summary>
/// An organization that sells on the marketplace, with a public profile under a unique <c>@handle</c>.
/// Not <see cref="Platform.Data.ITenantOwned"/>: approved profiles are public. Writes check the owning organization.
/// </summary>
public sealed class Provider
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }

    /// <summary>Lower-case letters, digits and single hyphens, 2–40 characters; unique.</summary>
    public required string Handle { get; init; }
    public required string Name { get; set; }
    public string? Bio { get; set; }
    public string? AvatarUrl { get; set; }
    public bool IsVerified { get; set; }
    public ProviderState State { get; set; }

    /// <summary>Why an operator rejected the application; shown to the applicant.</summary>
    public string? DecisionReason { get; set; }
    public DateTime? DecidedUtc { get; set; }
    public Guid? DecidedByUserId { get; set; }
    public DateTime CreatedUtc { get; init; }

    /// <summary>The secret the provider's own runtime signs usage reports with (Data Protection; shown once).</summary>
    public string? UsageSecretProtected { get; set; }
    public DateTime? UsageSecretCreatedUtc { get; set; }

    public Organization? Organization { get; init; }
}

sealed class ProviderConfiguration : IEntityTypeConfiguration<Provider>
{
    public void Configure(EntityTypeBuilder<Provider> e)
    {
        e.ToTable("providers");
        e.Property(x => x.Handle).HasMaxLength(40);
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.Bio).HasMaxLength(2000);
        e.Property(x => x.AvatarUrl).HasMaxLength(500);
        e.Property(x => x.DecisionReason).HasMaxLength(1000);
        e.Property(x => x.UsageSecretProtected).HasMaxLength(1000);
        e.HasOne(x => x.Organization).WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.Handle).IsUnique();
        e.HasIndex(x => x.OrganizationId).IsUnique();
        e.HasIndex(x => x.State);
    }
}
