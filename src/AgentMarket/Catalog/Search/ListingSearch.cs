using System.Data.Common;
using System.Globalization;
using System.Text;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Search;

/// <summary>
/// Full-text search over active public listings: SQLite FTS5 (bm25) or PostgreSQL <c>tsvector</c> (ts_rank), both
/// kept in sync by triggers of schema script 0003 on every change of a listing or its provider. Relevance is blended
/// with popularity and rating: <c>relevance × (1 + ln(1 + runs) / 10 + rating / 10)</c>, so among equally relevant
/// agents the proven ones come first without burying an exact name match. Filters and sorts are the same SQL on both.
/// </summary>
public sealed class ListingSearch(AppDbContext db)
{
    // Column weights for bm25, in the FTS table's column order: name, tags, provider, short description, description.
    const string Bm25 = "bm25(listing_search, 10.0, 5.0, 4.0, 2.0, 1.0)";

    public sealed record Hits(IReadOnlyList<Guid> Ids, int Total);

    /// <summary>One page of matching listing ids in order, and how many match in all. <paramref name="filter"/> must have terms.</summary>
    public async Task<Hits> SearchAsync(CatalogFilter filter, CancellationToken ct)
    {
        var postgres = db.Database.IsNpgsql();
        var parameters = new List<(string Name, object Value)>();
        var sql = new StringBuilder();
        var rating = postgres
            ? "(l.rating_total::float8 / GREATEST(l.reviews_count, 1))"
            : "(CAST(l.rating_total AS REAL) / max(l.reviews_count, 1))";
        if (postgres)
        {
            parameters.Add(("query", SearchTerms.ToTsQuery(filter.Terms)));
            parameters.Add(("rank_query", SearchTerms.ToTsQueryAny(filter.Terms)));
            sql.Append("""
                SELECT l.id, count(*) OVER () AS total
                FROM listings l JOIN categories c ON c.id = l.category_id
                WHERE l.search_vector @@ to_tsquery('simple', @query) AND
                """);
        }
        else
        {
            parameters.Add(("query", SearchTerms.ToFts5(filter.Terms)));
            // bm25() is only valid while the FTS cursor is on its row, so the matches are ranked (and materialised)
            // before they are joined, filtered, windowed and sorted.
            sql.Append("""
                WITH matches AS MATERIALIZED (
                    SELECT rowid AS search_row, {Bm25} AS score FROM listing_search WHERE listing_search MATCH @query
                )
                SELECT l.id, count(*) OVER () AS total
                FROM matches m
                JOIN listing_search_rows r ON r.id = m.search_row
                JOIN listings l ON l.id = r.listing_id
                JOIN categories c ON c.id = l.category_id
                WHERE
                """.Replace("{Bm25}", Bm25, StringComparison.Ordinal));
        }
        sql.Append(" l.state = 'active' AND l.visibility = 'public'");
        if (filter.Category is { } category)
        {
            parameters.Add(("category", category));
            sql.Append(" AND c.slug = @category");
        }
        if (filter.FreeOnly)
        {
            sql.Append(" AND l.pricing_model = 'free'");
        }
        if (filter.PricingModel is { } model)
        {
            parameters.Add(("model", EnumNames<PricingModel>.ToName(model)));
            sql.Append(" AND l.pricing_model = @model");
        }
        if (filter.MinRating is { } minRating)
        {
            // Compared without dividing: no rating for listings without reviews, and no division by zero on either engine.
            parameters.Add(("min_rating", minRating));
            sql.Append(" AND l.reviews_count > 0 AND l.rating_total >= @min_rating * l.reviews_count");
        }
        var boost = $"(1.0 + ln(1.0 + l.runs_count) / 10.0 + {rating} / 10.0)";
        var relevance = postgres
            ? $"ts_rank(l.search_vector, to_tsquery('simple', @rank_query), 1) * {boost} DESC"
            : $"m.score * {boost}";
        sql.Append(" ORDER BY ").Append(filter.EffectiveSort switch
        {
            CatalogSort.Relevance => relevance,
            CatalogSort.Popular => "l.runs_count DESC, l.rating_total DESC",
            CatalogSort.Rating => $"{rating} DESC, l.reviews_count DESC",
            CatalogSort.Newest => "l.published_utc DESC",
            CatalogSort.Price => $"{CatalogOrdering.PriceSql} ASC, l.runs_count DESC",
        });
        sql.Append(", l.id LIMIT @limit OFFSET @offset");
        parameters.Add(("limit", filter.Limit));
        parameters.Add(("offset", filter.Offset));

        var hits = await QueryAsync(sql.ToString(), parameters, filter.Limit, ct);
        if (hits.Total < 0)
        {
            // An empty page past the end: the window count never ran, so count once from the start.
            var total = filter.Offset == 0 ? 0 : (await SearchAsync(filter with { Offset = 0, Limit = 1 }, ct)).Total;
            return new Hits([], total);
        }
        return hits;
    }

    async Task<Hits> QueryAsync(string sql, List<(string Name, object Value)> parameters, int limit, CancellationToken ct)
    {
        var ids = new List<Guid>(limit);
        var total = -1;
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = "@" + name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(ReadGuid(reader, 0));
                total = Convert.ToInt32(reader.GetValue(1), CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return new Hits(ids, total);
    }

    static Guid ReadGuid(DbDataReader reader, int ordinal) => reader.GetValue(ordinal) switch
    {
        Guid guid => guid,
        string text => Guid.Parse(text),
        var other => throw new InvalidOperationException($"Unexpected id type {other.GetType()}"),
    };
}

/// <summary>The price sort key, shared by the LINQ and SQL paths so both sort alike.</summary>
static class CatalogOrdering
{
    public const string PriceSql = "CASE l.pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN l.credits_min ELSE l.credits_per_run END";
}
