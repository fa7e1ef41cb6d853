using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Pricing;

/// <summary>
/// One change of a listing's price, kept for the notice rule (SPEC §5): new buyers pay the new terms at once; buyers
/// who subscribed before <see cref="AnnouncedUtc"/> keep the previous terms until <see cref="EffectiveForSubscribersUtc"/>,
/// which is the announcement itself for a decrease and the end of the notice period for an increase.
/// </summary>
public sealed class ListingPriceChange
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ListingId { get; init; }

    public PricingModel PreviousModel { get; init; }
    public long PreviousCreditsPerRun { get; init; }
    public long PreviousCreditsMin { get; init; }
    public long PreviousCreditsMax { get; init; }

    public PricingModel NewModel { get; init; }
    public long NewCreditsPerRun { get; init; }
    public long NewCreditsMin { get; init; }
    public long NewCreditsMax { get; init; }

    public DateTime AnnouncedUtc { get; init; }

    /// <summary>Moved earlier (never later) when a later decrease makes the notice moot.</summary>
    public DateTime EffectiveForSubscribersUtc { get; set; }

    public PricingTerms Previous => new(PreviousModel, PreviousCreditsPerRun, PreviousCreditsMin, PreviousCreditsMax);
    public PricingTerms New => new(NewModel, NewCreditsPerRun, NewCreditsMin, NewCreditsMax);
}

sealed class ListingPriceChangeConfiguration : IEntityTypeConfiguration<ListingPriceChange>
{
    public void Configure(EntityTypeBuilder<ListingPriceChange> e)
    {
        e.ToTable("listing_price_changes");
        e.Ignore(x => x.Previous);
        e.Ignore(x => x.New);
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        // The conventional name is 65 characters, over PostgreSQL's 63 (script 0051 renames it).
        e.HasIndex(x => new { x.ListingId, x.EffectiveForSubscribersUtc }).HasDatabaseName("ix_listing_price_changes_listing_id_effective");
    }
}
