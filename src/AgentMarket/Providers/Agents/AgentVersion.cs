using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers.Agents;

/// <summary>
/// An immutable snapshot of an agent's flow: the export exactly as uploaded, the engine's compatibility report at
/// import time, a semantic version and the seller's changelog. Never updated or deleted, so subscriptions can pin one.
/// </summary>
public sealed class AgentVersion : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid AgentId { get; init; }

    /// <summary>The semantic version as text, for example <c>1.4.2</c>.</summary>
    public required string Version { get; init; }

    // The parts are stored separately so versions sort numerically in SQL (1.10.0 after 1.9.0).
    public int Major { get; init; }
    public int Minor { get; init; }
    public int Patch { get; init; }
    public string Changelog { get; init; } = "";

    /// <summary>The Langflow export, byte for byte as the seller uploaded it.</summary>
    public required byte[] FlowJson { get; init; }
    public required string FlowSha256 { get; init; }
    public string? FlowFileName { get; init; }
    public int FlowSizeBytes { get; init; }

    /// <summary>The engine's compatibility report (snake_case JSON) when the version was imported.</summary>
    public required string ReportJson { get; init; }
    public DateTime CreatedUtc { get; init; }
    public Guid? CreatedByUserId { get; init; }
}

sealed class AgentVersionConfiguration : IEntityTypeConfiguration<AgentVersion>
{
    public void Configure(EntityTypeBuilder<AgentVersion> e)
    {
        e.ToTable("agent_versions");
        e.Property(x => x.Version).HasMaxLength(40);
        e.Property(x => x.Changelog).HasMaxLength(4000);
        e.Property(x => x.FlowSha256).HasMaxLength(64);
        e.Property(x => x.FlowFileName).HasMaxLength(255);
        e.HasOne<ProviderAgent>().WithMany().HasForeignKey(x => x.AgentId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.AgentId, x.Major, x.Minor, x.Patch }).IsUnique();
    }
}
