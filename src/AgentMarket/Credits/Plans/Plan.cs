using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Plans;

/// <summary>An organization plan (SPEC §3). Rows are seeded with Free, Plus, Pro and Enterprise and editable by operators.</summary>
public sealed class Plan
{
    public const string Free = "free";
    public const string Plus = "plus";
    public const string Pro = "pro";
    public const string Enterprise = "enterprise";

    /// <summary>
    /// A move to a cheaper plan, or from yearly to monthly billing of the same plan: it takes effect when the period
    /// already paid ends, never by paying again now.
    /// </summary>
    public static bool IsDowngrade(Plan from, BillingInterval fromInterval, Plan to, BillingInterval toInterval) =>
        to.SortOrder < from.SortOrder || (to.Code == from.Code && fromInterval == BillingInterval.Yearly && toInterval == BillingInterval.Monthly);

    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>free, plus, pro, enterprise.</summary>
    public required string Code { get; init; }
    public required string Name { get; set; }

    /// <summary>USD cents per month, billed monthly.</summary>
    public long MonthlyPriceCents { get; set; }

    /// <summary>USD cents per month, billed yearly (12 × this); 0 when there is no yearly option.</summary>
    public long YearlyMonthlyPriceCents { get; set; }

    /// <summary>Credits granted once per monthly credit period.</summary>
    public long MonthlyCredits { get; set; }

    /// <summary>Credits granted once per UTC day (Free).</summary>
    public long DailyCredits { get; set; }
    public int ConcurrentSessions { get; set; }
    public int StorageGb { get; set; }
    public int WidgetPages { get; set; }

    /// <summary>Whether the plan may buy top-up packages.</summary>
    public bool CanTopUp { get; set; }

    /// <summary>Priced by agreement (Enterprise): not purchasable through checkout.</summary>
    public bool IsCustom { get; set; }
    public List<string> Features { get; set; } = [];
    public int SortOrder { get; set; }

    public long YearlyPriceCents => YearlyMonthlyPriceCents * 12;
}

public enum BillingInterval
{
    Monthly,
    Yearly,
}

sealed class PlanConfiguration : IEntityTypeConfiguration<Plan>
{
    public void Configure(EntityTypeBuilder<Plan> e)
    {
        e.ToTable("plans");
        e.Property(x => x.Code).HasMaxLength(40);
        e.Property(x => x.Name).HasMaxLength(100);
        e.HasIndex(x => x.Code).IsUnique();
        e.Ignore(x => x.YearlyPriceCents);
    }
}
