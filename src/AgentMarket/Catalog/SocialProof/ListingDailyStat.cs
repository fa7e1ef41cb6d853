using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.SocialProof;

/// <summary>
/// A listing's runs on one UTC day, kept up to date as runs finish so the seller's charts never scan run records.
/// Aggregates across buyers, so not tenant-owned; only the listing's provider reads them.
/// </summary>
public sealed class ListingDailyStat
{
    public Guid ListingId { get; init; }
    public DateOnly Day { get; init; }
    public int CompletedRuns { get; set; }
    public int FailedRuns { get; set; }

    /// <summary>Distinct buyer organizations with a finished run that day.</summary>
    public int Customers { get; set; }
}

sealed class ListingDailyStatConfiguration : IEntityTypeConfiguration<ListingDailyStat>
{
    public void Configure(EntityTypeBuilder<ListingDailyStat> e)
    {
        e.ToTable("listing_daily_stats");
        e.HasKey(x => new { x.ListingId, x.Day });
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
    }
}
