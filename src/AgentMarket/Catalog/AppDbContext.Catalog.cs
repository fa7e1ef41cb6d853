using AgentMarket.Catalog;
using AgentMarket.Catalog.Featured;
using AgentMarket.Catalog.Images;
using AgentMarket.Catalog.Moderation;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Catalog.SocialProof;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

public sealed partial class AppDbContext
{
    public DbSet<Category> Categories => Set<Category>();
    public DbSet<Listing> Listings => Set<Listing>();
    public DbSet<ListingChange> ListingChanges => Set<ListingChange>();
    public DbSet<ListingRelease> ListingReleases => Set<ListingRelease>();
    public DbSet<RetiredListingSlug> RetiredListingSlugs => Set<RetiredListingSlug>();
    public DbSet<ListingPriceChange> ListingPriceChanges => Set<ListingPriceChange>();
    public DbSet<CatalogImage> CatalogImages => Set<CatalogImage>();
    public DbSet<Review> Reviews => Set<Review>();
    public DbSet<ReviewReport> ReviewReports => Set<ReviewReport>();
    public DbSet<RunRecord> RunRecords => Set<RunRecord>();
    public DbSet<ListingDailyStat> ListingDailyStats => Set<ListingDailyStat>();
    public DbSet<FeaturedListing> FeaturedListings => Set<FeaturedListing>();
}
