namespace AgentMarket.Catalog.Search;

/// <summary>Which text of a listing some search word must appear in (every word must appear somewhere).</summary>
public enum TextScope
{
    Name,

    /// <summary>The name, the tags or the provider's name and handle.</summary>
    NameOrMeta,

    /// <summary>Anywhere, descriptions included.</summary>
    Anywhere,
}

/// <summary>
/// A set of live listings: those that hold every term somewhere and some term in their <see cref="Scope"/> (all live
/// listings when there are no terms), minus those with some term in the <see cref="Excluding"/> scope, narrowed by the
/// filter's category, pricing and rating.
/// </summary>
public sealed record SearchSet(CatalogFilter Filter, TextScope Scope = TextScope.Anywhere, TextScope? Excluding = null)
{
    public IReadOnlyList<SearchTerm> Terms => Filter.Terms;
}

/// <summary>The two operations search needs from a database, each with bounded work (see <see cref="ListingSearch"/>).</summary>
interface ICatalogSearchEngine
{
    /// <summary>True when <see cref="CountAsync"/> always counts the whole set (cheaply), whatever the cap.</summary>
    bool CountsExactly { get; }

    /// <summary>
    /// How many listings the set has, counting at most <paramref name="cap"/> (an engine that counts cheaply may count
    /// them all); the answer is exact whenever it is below the cap.
    /// </summary>
    Task<int> CountAsync(SearchSet set, int cap, CancellationToken ct);

    /// <summary>An estimate of the set's size for when the exact count was capped (the planner's, on PostgreSQL).</summary>
    Task<int> EstimateAsync(SearchSet set, CancellationToken ct);

    /// <summary>The ids of the set's listings at [<paramref name="offset"/>, +<paramref name="limit"/>) in <paramref name="sort"/> order.</summary>
    Task<List<Guid>> PageAsync(SearchSet set, CatalogSort sort, int limit, int offset, int setSize, CancellationToken ct);
}
