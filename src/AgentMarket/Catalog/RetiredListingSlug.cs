using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog;

/// <summary>
/// A slug a published listing had before its provider changed it. Buyers' integrations name agents by slug (the OpenAI
/// door's <c>model</c>, the agent page's address, orders), so an old slug keeps reaching its listing, and no other
/// listing can take it; the listing itself can take it back.
/// </summary>
public sealed class RetiredListingSlug
{
    public required string Slug { get; init; }
    public Guid ListingId { get; init; }
    public DateTime RetiredUtc { get; init; }
}

sealed class RetiredListingSlugConfiguration : IEntityTypeConfiguration<RetiredListingSlug>
{
    public void Configure(EntityTypeBuilder<RetiredListingSlug> e)
    {
        e.ToTable("retired_listing_slugs");
        e.HasKey(x => x.Slug);
        e.Property(x => x.Slug).HasMaxLength(80);
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.ListingId);
    }
}

public static class ListingSlugs
{
    /// <summary>The listings whose slug is, or was before a change, <paramref name="slug"/> (lower-case): at most one.</summary>
    public static IQueryable<Listing> WithSlug(this IQueryable<Listing> listings, AppDbContext db, string slug) =>
        listings.Where(l => l.Slug == slug || db.RetiredListingSlugs.Any(r => r.Slug == slug && r.ListingId == l.Id));
}
