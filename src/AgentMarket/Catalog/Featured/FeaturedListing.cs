using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Featured;

/// <summary>
/// A listing an operator put in the storefront's "Featured" row, at <see cref="Position"/> (lowest first). The row shows
/// it only while it is live (active, public, its organization not suspended); the mark stays, so a listing that comes
/// back takes its place again.
/// </summary>
public sealed class FeaturedListing
{
    public Guid ListingId { get; init; }
    public int Position { get; set; }
    public DateTime FeaturedUtc { get; init; }
    public Guid? FeaturedByUserId { get; init; }
}

sealed class FeaturedListingConfiguration : IEntityTypeConfiguration<FeaturedListing>
{
    public void Configure(EntityTypeBuilder<FeaturedListing> e)
    {
        e.ToTable("featured_listings");
        e.HasKey(x => x.ListingId);
        e.HasOne<Listing>().WithOne().HasForeignKey<FeaturedListing>(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.Position);
    }
}
