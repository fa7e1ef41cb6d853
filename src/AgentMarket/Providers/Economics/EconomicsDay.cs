using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers.Economics;

/// <summary>
/// One UTC day of one provider's listing for one buyer organization (<see cref="Guid.Empty"/> for visitors' trial runs):
/// the runs' counts, tokens and latency from the run records, and the money from the ledger transfers that settled them,
/// subscriptions' monthly charges included (money without runs). Maintained by <see cref="EconomicsRollups"/>, with the
/// coarser rollups built from these rows (<see cref="EconomicsListingDay"/>, <see cref="EconomicsCustomerMonth"/>), so
/// dashboards read rollups instead of scanning runs and transfers.
/// </summary>
public sealed class EconomicsDay : EconomicsSums
{
    public Guid ProviderId { get; init; }
    public DateOnly Day { get; init; }
    public Guid ListingId { get; init; }
    public Guid BuyerOrganizationId { get; init; }
}

/// <summary>What a rollup row of a provider's economics adds up; <see cref="EconomicsDay"/> and <see cref="EconomicsListingDay"/> keep the same sums at two grains.</summary>
public abstract class EconomicsSums
{
    /// <summary>Finished runs, failed ones included.</summary>
    public long Runs { get; init; }
    public long Succeeded { get; init; }

    /// <summary>What the runs (and monthly charges) were worth at their price: credits the buyers' wallets spent, and for trials what the promotions account paid.</summary>
    public long GrossCredits { get; init; }

    /// <summary>Of <see cref="GrossCredits"/>, what granted (free) credits or the promotions account paid.</summary>
    public long PromotionalCredits { get; init; }

    /// <summary>Credited to the provider's earnings account by the runs' settle transfers.</summary>
    public long ProviderEarnings { get; init; }

    /// <summary>Credited to the platform's fees account.</summary>
    public long PlatformFees { get; init; }
    public long InputTokens { get; init; }
    public long OutputTokens { get; init; }

    /// <summary>Model cost at the operator's price list, in millionths of a credit (a credit is a US cent).</summary>
    public long ModelCostMicrocredits { get; init; }

    /// <summary>Sum of succeeded runs' latencies; percentiles come from <see cref="EconomicsLatency"/>.</summary>
    public long LatencyMsSum { get; init; }

    /// <summary>
    /// Of <see cref="Runs"/>, those whose tokens are not the model endpoint's own figures (ADR-172): held to what the text
    /// can hold, or estimated because the endpoint reported none. Runs before schema 0050 have no source and are neither.
    /// </summary>
    public long RunsBounded { get; init; }
    public long RunsEstimated { get; init; }

    /// <summary>Schema 0052 added the usage-source counts to tables with rows, which needs a default (it then backfills them).</summary>
    internal static void ConfigureUsageSources<T>(EntityTypeBuilder<T> e) where T : EconomicsSums
    {
        e.Property(x => x.RunsBounded).HasDefaultValue(0L);
        e.Property(x => x.RunsEstimated).HasDefaultValue(0L);
    }
}

/// <summary>
/// One UTC day of one provider's listing, all buyers together: the sums of <see cref="EconomicsDay"/> without the buyer
/// dimension, so the dashboard's per-day and per-agent figures read a row per listing and day however many customers
/// there are (ADR-090, "Long ranges").
/// </summary>
public sealed class EconomicsListingDay : EconomicsSums
{
    public Guid ProviderId { get; init; }
    public DateOnly Day { get; init; }
    public Guid ListingId { get; init; }
}

/// <summary>
/// One buyer organization's runs and spend with one provider in one UTC calendar month (<see cref="Month"/> is its first
/// day): unique and top customers over a long range read whole months here and only the partial months at the range's
/// edges from <see cref="EconomicsDay"/>, which stays exact because a customer is counted once over the union.
/// Visitors' trials (no organization) are not customers and have no rows.
/// </summary>
public sealed class EconomicsCustomerMonth
{
    public Guid ProviderId { get; init; }
    public DateOnly Month { get; init; }
    public Guid BuyerOrganizationId { get; init; }
    public long Runs { get; init; }
    public long GrossCredits { get; init; }
}

/// <summary>
/// How many of a provider's succeeded runs took <see cref="LatencyMs"/> (a <see cref="Usage.LatencyHistogram"/> bucket) on
/// a day, all listings together: the dashboard's percentiles are over the provider's runs, so a year is a few thousand rows.
/// </summary>
public sealed class EconomicsLatency
{
    public Guid ProviderId { get; init; }
    public DateOnly Day { get; init; }
    public int LatencyMs { get; init; }
    public long Runs { get; init; }
}

sealed class EconomicsDayConfiguration : IEntityTypeConfiguration<EconomicsDay>
{
    public void Configure(EntityTypeBuilder<EconomicsDay> e)
    {
        e.ToTable("economics_days");
        // Provider and day first: every dashboard query is one provider's range of days.
        e.HasKey(x => new { x.ProviderId, x.Day, x.ListingId, x.BuyerOrganizationId });
        EconomicsSums.ConfigureUsageSources(e);
    }
}

sealed class EconomicsListingDayConfiguration : IEntityTypeConfiguration<EconomicsListingDay>
{
    public void Configure(EntityTypeBuilder<EconomicsListingDay> e)
    {
        e.ToTable("economics_listing_days");
        e.HasKey(x => new { x.ProviderId, x.Day, x.ListingId });
        EconomicsSums.ConfigureUsageSources(e);
    }
}

sealed class EconomicsCustomerMonthConfiguration : IEntityTypeConfiguration<EconomicsCustomerMonth>
{
    public void Configure(EntityTypeBuilder<EconomicsCustomerMonth> e)
    {
        e.ToTable("economics_customer_months");
        e.HasKey(x => new { x.ProviderId, x.Month, x.BuyerOrganizationId });
    }
}

sealed class EconomicsLatencyConfiguration : IEntityTypeConfiguration<EconomicsLatency>
{
    public void Configure(EntityTypeBuilder<EconomicsLatency> e)
    {
        e.ToTable("economics_latency_days");
        e.HasKey(x => new { x.ProviderId, x.Day, x.LatencyMs });
    }
}
