using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Search;

/// <summary>
/// Search on PostgreSQL: three tsvectors per live listing (name; name, tags and provider; everything) with GIN indexes
/// find the set, and partial indexes on the sort expressions order it; schema script 0007 keeps them. The planner picks
/// per query between walking a sort index and checking each row (a common word) and collecting the matches from GIN
/// and sorting them (a rare one). Counting visits every matching row, so counts stop at the cap and totals above it are
/// the planner's estimate.
/// </summary>
sealed class PostgresCatalogSearch(AppDbContext db) : ICatalogSearchEngine
{
    // These expressions must stay character for character those of the indexes in 0007_catalog_search.sql.
    const string Boost = "(1.0 + ln(1.0 + l.runs_count) / 10.0 + coalesce((20 * l.rating_total + l.reviews_count) / (2 * nullif(l.reviews_count, 0)), 0) / 100.0)";
    const string RatingTenths = "((20 * l.rating_total + l.reviews_count) / (2 * nullif(l.reviews_count, 0)))";
    const string Price = "(CASE l.pricing_model WHEN 'free' THEN 0 WHEN 'variable_credits' THEN l.credits_min ELSE l.credits_per_run END)";

    public bool CountsExactly => false;

    public async Task<int> CountAsync(SearchSet set, int cap, CancellationToken ct)
    {
        var parameters = new List<(string, object)> { ("cap", cap) };
        await using var command = Command($"SELECT count(*) FROM (SELECT 1 FROM listings l WHERE {Where(set, parameters)} LIMIT @cap) x", parameters);
        return Convert.ToInt32(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public async Task<int> EstimateAsync(SearchSet set, CancellationToken ct)
    {
        var parameters = new List<(string, object)>();
        await using var command = Command($"EXPLAIN (FORMAT JSON) SELECT 1 FROM listings l WHERE {Where(set, parameters)}", parameters);
        var plan = JsonDocument.Parse((string)(await command.ExecuteScalarAsync(ct))!);
        return (int)Math.Min(int.MaxValue, plan.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble());
    }

    public async Task<List<Guid>> PageAsync(SearchSet set, CatalogSort sort, int limit, int offset, int setSize, CancellationToken ct)
    {
        var parameters = new List<(string, object)> { ("limit", limit), ("offset", offset) };
        await using var command = Command($"SELECT l.id FROM listings l WHERE {Where(set, parameters)} ORDER BY {OrderBy(sort)} LIMIT @limit OFFSET @offset", parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ids = new List<Guid>(limit);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }

    static string Where(SearchSet set, List<(string Name, object Value)> parameters)
    {
        // Only live listings have vectors (the trigger clears them otherwise), so this is also the "live" filter.
        var conditions = new List<string> { "l.search_vector IS NOT NULL" };
        if (set.Terms.Count > 0)
        {
            // Npgsql ignores a named parameter the statement does not use.
            parameters.Add(("all_words", SearchTerms.ToTsQuery(set.Terms)));
            parameters.Add(("any_word", SearchTerms.ToTsQueryAny(set.Terms)));
            // One word in the scope is that word anywhere: skip reading the (larger) posting list of the whole text.
            if (set.Scope == TextScope.Anywhere || set.Terms.Count > 1)
            {
                conditions.Add("l.search_vector @@ to_tsquery('simple', @all_words)");
            }
            if (set.Scope != TextScope.Anywhere)
            {
                conditions.Add($"{Vector(set.Scope)} @@ to_tsquery('simple', @any_word)");
            }
            if (set.Excluding is { } excluded)
            {
                conditions.Add($"NOT ({Vector(excluded)} @@ to_tsquery('simple', @any_word))");
            }
        }
        var filter = set.Filter;
        if (filter.Category is { } category)
        {
            parameters.Add(("category", category));
            conditions.Add("l.category_id = (SELECT c.id FROM categories c WHERE c.slug = @category)");
        }
        if (filter.Model is { } model)
        {
            parameters.Add(("model", EnumNames<PricingModel>.ToName(model)));
            conditions.Add("l.pricing_model = @model");
        }
        if (filter.MinRatingTenths is { } tenths)
        {
            parameters.Add(("rating", (long)tenths));
            conditions.Add($"{RatingTenths} >= @rating");
        }
        return string.Join(" AND ", conditions);
    }

    static string Vector(TextScope scope) => scope switch
    {
        TextScope.Name => "l.search_name",
        TextScope.NameOrMeta => "l.search_meta",
        TextScope.Anywhere => "l.search_vector",
    };

    static string OrderBy(CatalogSort sort) => sort switch
    {
        CatalogSort.Relevance => $"{Boost} DESC, l.id",
        CatalogSort.Popular => "l.runs_count DESC, l.id",
        CatalogSort.Rating => $"{RatingTenths} DESC NULLS LAST, l.reviews_count DESC, l.id",
        CatalogSort.Newest => "l.published_utc DESC NULLS LAST, l.id",
        CatalogSort.Price => $"{Price}, l.runs_count DESC, l.id",
    };

    DbCommand Command(string sql, List<(string Name, object Value)> parameters)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
