using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Credits;

/// <summary>Bound from the <c>Credits</c> section.</summary>
public sealed class CreditsOptions
{
    /// <summary>Starter credits, once per organization ever.</summary>
    [Range(0, 1_000_000)]
    public long StarterCredits { get; set; } = 300;

    /// <summary>The platform's share of every settled run, in percent (default 20).</summary>
    [Range(0, 100)]
    public decimal CommissionPercent { get; set; } = 20;

    /// <summary>How providers are paid for runs paid with granted credits: percent of the normal payout, from the promotions account (100 = same as paid, 0 = not at all).</summary>
    [Range(0, 100)]
    public int GrantedCreditsPayoutPercent { get; set; } = 100;

    /// <summary>How long a reservation may stay open before the expiry job voids it.</summary>
    [Range(1, 1440)]
    public int ReservationMinutes { get; set; } = 15;

    /// <summary>How often the credit jobs (expiry, daily grants, renewals, unanswered auto top-ups) run.</summary>
    [Range(1, 3600)]
    public int JobIntervalSeconds { get; set; } = 60;

    /// <summary>
    /// Most automatic top-ups (auto top-up purchases not failed) one organization makes in any 24 hours (default 5): a
    /// bound on what its card is charged even when one purchase does not lift the balance above the threshold.
    /// </summary>
    [Range(1, 1000)]
    public int AutoTopUpsPerDay { get; set; } = 5;

    public Ledger.RevenueSplit Split => new((int)(CommissionPercent * 100), GrantedCreditsPayoutPercent);
}
