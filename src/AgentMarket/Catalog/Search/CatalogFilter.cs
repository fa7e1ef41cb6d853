namespace AgentMarket.Catalog.Search;

public enum CatalogSort
{
    /// <summary>Where the words match (name, then tags and provider, then descriptions), then popularity and rating; the default with a search.</summary>
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

    public CatalogSort EffectiveSort => Sort switch
    {
        null => Terms.Count > 0 ? CatalogSort.Relevance : CatalogSort.Popular,
        // Relevance without words to match is popularity.
        CatalogSort.Relevance when Terms.Count == 0 => CatalogSort.Popular,
        { } sort => sort,
    };

    /// <summary>The pricing model asked for, by either parameter (free=true is pricing_model=free); null for any.</summary>
    public PricingModel? Model => FreeOnly ? Catalog.PricingModel.Free : PricingModel;

    /// <summary>free=true with another pricing model: nothing can match.</summary>
    public bool IsContradictory => FreeOnly && PricingModel is { } model && model != Catalog.PricingModel.Free;

    /// <summary>
    /// The minimum displayed rating in tenths of a star: a listing passes when its rating as shown (rounded to one
    /// decimal) is at least <see cref="MinRating"/>. Listings without reviews never pass.
    /// </summary>
    public int? MinRatingTenths => MinRating is { } rating ? Math.Clamp((int)Math.Ceiling(Math.Round(rating * 10, 6)), 10, 50) : null;
}
