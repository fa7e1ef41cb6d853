using AgentMarket.Providers.Agents;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog;

/// <summary>
/// A version's public release notes: written the first time a listing serves the version. The version itself (the
/// flow) stays private to the provider; only its number and changelog become public.
/// </summary>
public sealed class ListingRelease
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ListingId { get; init; }
    public Guid AgentVersionId { get; init; }
    public required string Version { get; init; }
    public int Major { get; init; }
    public int Minor { get; init; }
    public int Patch { get; init; }
    public string Changelog { get; init; } = "";
    public DateTime ReleasedUtc { get; init; }
}

sealed class ListingReleaseConfiguration : IEntityTypeConfiguration<ListingRelease>
{
    public void Configure(EntityTypeBuilder<ListingRelease> e)
    {
        e.ToTable("listing_releases");
        e.Property(x => x.Version).HasMaxLength(40);
        e.Property(x => x.Changelog).HasMaxLength(4000);
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<AgentVersion>().WithMany().HasForeignKey(x => x.AgentVersionId).OnDelete(DeleteBehavior.Restrict);
        e.HasIndex(x => new { x.ListingId, x.AgentVersionId }).IsUnique();
    }
}
