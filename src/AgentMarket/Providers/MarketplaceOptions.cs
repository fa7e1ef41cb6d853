namespace AgentMarket.Providers;

/// <summary>Bound from the <c>Marketplace</c> section.</summary>
public sealed class MarketplaceOptions
{
    /// <summary>When true, a provider application is approved at once; otherwise it waits for an operator.</summary>
    public bool AutoApproveProviders { get; set; } = true;

    /// <summary>The absolute URL users reach the marketplace at, for links in emails. Defaults to the request's own host.</summary>
    public string? PublicUrl { get; set; }
}
