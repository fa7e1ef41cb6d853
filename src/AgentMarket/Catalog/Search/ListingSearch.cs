using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Search;

/// <summary>
/// Browsing and full-text search over live listings, the same on SQLite (FTS5) and PostgreSQL (tsvector + GIN).
/// Relevance is a bucket sort, as in Meilisearch's ranking rules: of the listings holding every word, those with a
/// word in their name first, then those with one in their tags or provider, then the rest; within a bucket, the most
/// used and best rated first (<c>1 + ln(1 + runs) / 10 + rating / 10</c>). Each page reads only the buckets it needs, and a bucket only up to the
/// page's end, so the work stays bounded however many listings a common word matches: scoring every match
/// (bm25, ts_rank) costs more than the latency target at 100,000 listings (ADR-020, docs/benchmarks.md).
/// </summary>
public sealed class ListingSearch(AppDbContext db)
{
    /// <summary>
    /// On engines where counting is not cheap (PostgreSQL visits every matching row), totals are counted only when the
    /// database expects at most this many; above, its estimate is the total.
    /// </summary>
    public const int ExactTotalCap = 100;

    /// <summary>A page of ids in order, the total, and whether the total is exact or the database's estimate.</summary>
    public sealed record Hits(IReadOnlyList<Guid> Ids, int Total, bool TotalIsExact);

    static readonly (TextScope Scope, TextScope? Excluding)[] Buckets =
    [
        (TextScope.Name, null),
        (TextScope.NameOrMeta, TextScope.Name),
        (TextScope.Anywhere, TextScope.NameOrMeta),
    ];

    public async Task<Hits> SearchAsync(CatalogFilter filter, CancellationToken ct)
    {
        if (filter.IsContradictory)
        {
            return new Hits([], 0, true);
        }
        ICatalogSearchEngine engine = db.Database.IsNpgsql() ? new PostgresCatalogSearch(db) : new SqliteCatalogSearch(db);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var all = new SearchSet(filter);
            var (total, exact) = await TotalAsync(engine, all, ct);
            var sort = filter.EffectiveSort;
            if (sort != CatalogSort.Relevance)
            {
                var page = exact && filter.Offset >= total ? [] : await engine.PageAsync(all, sort, filter.Limit, filter.Offset, total, ct);
                return new Hits(page, total, exact);
            }
            var ids = new List<Guid>(filter.Limit);
            var skip = filter.Offset;
            foreach (var (scope, excluding) in Buckets)
            {
                var need = filter.Limit - ids.Count;
                if (need == 0)
                {
                    break;
                }
                var bucket = new SearchSet(filter, scope, excluding);
                // Counted only up to the end of the page: enough to know whether the page starts past this bucket.
                var size = await engine.CountAsync(bucket, skip + need, ct);
                if (skip >= size)
                {
                    skip -= size;
                    continue;
                }
                ids.AddRange(await engine.PageAsync(bucket, CatalogSort.Relevance, Math.Min(need, size - skip), skip, size, ct));
                skip = 0;
            }
            return new Hits(ids, total, exact);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// The set's size: counted when counting is cheap or the set small; otherwise the database's estimate, asked first
    /// so that a common word costs a plan rather than a visit to thousands of rows.
    /// </summary>
    static async Task<(int Total, bool Exact)> TotalAsync(ICatalogSearchEngine engine, SearchSet all, CancellationToken ct)
    {
        if (engine.CountsExactly)
        {
            return (await engine.CountAsync(all, int.MaxValue, ct), true);
        }
        var estimate = await engine.EstimateAsync(all, ct);
        if (estimate > ExactTotalCap)
        {
            return (estimate, false);
        }
        // Estimates can be low; ten times the cap still bounds the rows visited.
        var counted = await engine.CountAsync(all, 10 * ExactTotalCap, ct);
        return (counted, counted < 10 * ExactTotalCap);
    }
}
