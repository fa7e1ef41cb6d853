namespace AgentMarket.Catalog.Search;

public enum CatalogSort
{
    /// <summary>Text relevance blended with popularity and rating; the default when there is a search.</summary>
    Relevance,

    /// <summary>Most completed runs first; the default without a search.</summary>
    Popular,
    Rating,
    Newest,

    /// <summary>Cheapest first (free, then by credits per run, a variable price's minimum, or a subscription's monthly price).</summary>
    Price,
}

/// <summary>What a visitor asked the catalog for: the query-string parameters of the browse API and the home page.</summary>
public sealed record CatalogFilter(
    string? Search = null,
    string? Category = null,
    PricingModel? PricingModel = null,
    bool FreeOnly = false,
    double? MinRating = null,
    CatalogSort? Sort = null,
    int Limit = 24,
    int Offset = 0)
{
    public IReadOnlyList<SearchTerm> Terms { get; } = SearchTerms.Parse(Search);

    public CatalogSort EffectiveSort => Sort ?? (Terms.Count > 0 ? CatalogSort.Relevance : CatalogSort.Popular);
}
