using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Gateway;

/// <summary>Bound from the <c>Gateway</c> section.</summary>
public sealed class GatewayOptions
{
    /// <summary>Variable-priced agents: credits per 1,000 model tokens, before the listing's minimum and maximum apply.</summary>
    [Range(0, 1_000_000)]
    public long VariableCreditsPerThousandTokens { get; set; } = 1;

    /// <summary>How long a reservation may wait for its run before the expiry job voids it.</summary>
    [Range(1, 1440)]
    public int ReservationMinutes { get; set; } = 15;

    /// <summary>Playground runs a visitor gets per agent per UTC day, paid by the platform's promotions account.</summary>
    [Range(0, 1_000)]
    public int TrialRunsPerDay { get; set; } = 3;

    /// <summary>
    /// Most credits the promotions account pays for one visitor's trial run, whatever the agent's price: a free try is the
    /// platform's marketing, so an agent priced high cannot turn tries (cookies are free to clear) into earnings.
    /// </summary>
    [Range(0, 1_000_000)]
    public long TrialMaxCreditsPerRun { get; set; } = 10;

    /// <summary>
    /// Playground runs one client address gets per agent per UTC day, whatever visitor cookies it sends: a script that
    /// drops the cookie is a new visitor on every request (ADR-156). An IPv6 client counts by its /64.
    /// </summary>
    [Range(0, 100_000)]
    public int TrialRunsPerAddressPerDay { get; set; } = 20;

    /// <summary>
    /// Most credits the promotions account pays for one agent's tries per UTC day. Past it, tries still run, free to the
    /// visitor, but pay the provider nothing, so tries scripted from many addresses cannot become earnings (ADR-156).
    /// </summary>
    [Range(0, 100_000_000)]
    public long TrialCreditsPerListingPerDay { get; set; } = 200;

    /// <summary>Largest run output kept for idempotent replays and usage (bytes of text).</summary>
    [Range(1_024, 1_000_000)]
    public int StoredOutputLimit { get; set; } = 100_000;
}
