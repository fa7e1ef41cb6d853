using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Payouts;

/// <summary>Bound from the <c>Payouts</c> section.</summary>
public sealed class PayoutsOptions
{
    /// <summary>From this day of a month on, the job pays out the month before.</summary>
    [Range(1, 28)]
    public int PayoutDayOfMonth { get; set; } = 1;

    /// <summary>How often the payout job looks for work (it is idempotent, so often is harmless).</summary>
    [Range(1, 1440)]
    public int JobIntervalMinutes { get; set; } = 60;

    /// <summary>The lowest minimum a provider may set, in cents (default $20).</summary>
    [Range(1, 1_000_000)]
    public long MinimumFloorCents { get; set; } = PayoutSettings.DefaultMinimumCents;
}
