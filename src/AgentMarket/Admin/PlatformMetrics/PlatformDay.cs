using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Admin.PlatformMetrics;

/// <summary>
/// One UTC day of the whole platform's runs, maintained by <see cref="PlatformRollups"/> in the run journal's
/// transaction from what the provider rollups added, so the metrics page reads a row per day instead of every run.
/// </summary>
public sealed class PlatformDay
{
    public DateOnly Day { get; init; }

    /// <summary>Finished runs of listings, failed ones included.</summary>
    public long Runs { get; init; }
    public long Succeeded { get; init; }

    /// <summary>Credits buyer organizations' wallets spent on runs and subscriptions' monthly charges (granted credits included).</summary>
    public long CreditsSpent { get; init; }

    /// <summary>What visitors' trial runs were worth, paid by the promotions account.</summary>
    public long TrialCredits { get; init; }

    /// <summary>Credited to the platform's fees account by the runs' and the monthly charges' settlements.</summary>
    public long PlatformFees { get; init; }

    /// <summary>Distinct buyer organizations that ran an agent on the day.</summary>
    public long ActiveOrganizations { get; init; }
}

/// <summary>One listing's runs (and monthly charges, in <see cref="GrossCredits"/>) on one UTC day, for the top agents and (through <see cref="ProviderId"/>) top providers.</summary>
public sealed class PlatformListingDay
{
    public DateOnly Day { get; init; }
    public Guid ListingId { get; init; }
    public Guid ProviderId { get; init; }
    public long Runs { get; init; }
    public long Succeeded { get; init; }
    public long GrossCredits { get; init; }
}

/// <summary>A buyer organization that ran agents on a UTC day: active organizations over any window are distinct rows.</summary>
public sealed class PlatformOrganizationDay
{
    public DateOnly Day { get; init; }
    public Guid OrganizationId { get; init; }
    public long Runs { get; init; }
}

sealed class PlatformDayConfiguration : IEntityTypeConfiguration<PlatformDay>
{
    public void Configure(EntityTypeBuilder<PlatformDay> e)
    {
        e.ToTable("platform_days");
        e.HasKey(x => x.Day);
    }
}

sealed class PlatformListingDayConfiguration : IEntityTypeConfiguration<PlatformListingDay>
{
    public void Configure(EntityTypeBuilder<PlatformListingDay> e)
    {
        e.ToTable("platform_listing_days");
        // Day first: every query is a range of days.
        e.HasKey(x => new { x.Day, x.ListingId });
    }
}

sealed class PlatformOrganizationDayConfiguration : IEntityTypeConfiguration<PlatformOrganizationDay>
{
    public void Configure(EntityTypeBuilder<PlatformOrganizationDay> e)
    {
        e.ToTable("platform_organization_days");
        e.HasKey(x => new { x.Day, x.OrganizationId });
    }
}
