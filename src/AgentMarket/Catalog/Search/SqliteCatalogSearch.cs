using System.Data.Common;
using System.Globalization;
using System.Text;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Search;

/// <summary>
/// Search on SQLite: the FTS5 table <c>listing_search</c> (columns name, meta, body, facets) finds the set; the compact
/// <c>listing_search_rows</c> (one row per live listing, an integer key, indexed sort columns) orders it. Schema script
/// 0007 keeps both in step with listings. Counting a set is cheap here (FTS5 walks only its index), so counts are exact.
/// </summary>
sealed class SqliteCatalogSearch(AppDbContext db) : ICatalogSearchEngine
{
    /// <summary>
    /// Below this many matches a page is found by joining every match to its row and sorting (about 1 µs a match);
    /// above it, by collecting the matches' ids and walking the sort order's index until the page is full (about
    /// 0.2 µs a match plus a few steps per result, as common words match densely). Measured in the search benchmark.
    /// </summary>
    const int WalkSortOrderAbove = 2_000;

    /// <summary>The walk's steps grow with the page's depth; past the first pages, joining and sorting is cheaper.</summary>
    const int WalkSortOrderUpTo = 500;

    public bool CountsExactly => true;

    public async Task<int> CountAsync(SearchSet set, int cap, CancellationToken ct)
    {
        var (sql, parameters) = Match(set) is { } match
            ? ("SELECT count(*) FROM listing_search WHERE listing_search MATCH @match", new List<(string, object)> { ("match", match) })
            : ("SELECT count(*) FROM listing_search_rows r" + RowFilters(set.Filter, out var rowParameters), rowParameters);
        return Convert.ToInt32(await ScalarAsync(sql, parameters, ct), CultureInfo.InvariantCulture);
    }

    public Task<int> EstimateAsync(SearchSet set, CancellationToken ct) => CountAsync(set, int.MaxValue, ct);

    public async Task<List<Guid>> PageAsync(SearchSet set, CatalogSort sort, int limit, int offset, int setSize, CancellationToken ct)
    {
        var order = OrderBy(sort);
        string sql;
        List<(string, object)> parameters = [("limit", limit), ("offset", offset)];
        if (Match(set) is not { } match)
        {
            // Without words: the live rows themselves, walking the sort order when many pass the filters.
            var walk = Walks(setSize, limit, offset) ? $" INDEXED BY {SortIndex(sort)}" : "";
            sql = $"SELECT r.listing_id FROM listing_search_rows r{walk}{RowFilters(set.Filter, out var rowParameters)} ORDER BY {order} LIMIT @limit OFFSET @offset";
            parameters.AddRange(rowParameters);
        }
        else if (Walks(setSize, limit, offset))
        {
            // INDEXED BY pins the walk to the sort order's index, so the page ends the walk early.
            sql = $"""
                WITH m AS MATERIALIZED (SELECT rowid AS id FROM listing_search WHERE listing_search MATCH @match)
                SELECT r.listing_id FROM listing_search_rows r INDEXED BY {SortIndex(sort)}
                WHERE r.id IN (SELECT id FROM m)
                ORDER BY {order} LIMIT @limit OFFSET @offset
                """;
            parameters.Add(("match", match));
        }
        else
        {
            // MATERIALIZED keeps the planner from turning the join around into one FTS query per row.
            sql = $"""
                WITH m AS MATERIALIZED (SELECT rowid AS id FROM listing_search WHERE listing_search MATCH @match)
                SELECT r.listing_id FROM m JOIN listing_search_rows r ON r.id = m.id
                ORDER BY {order} LIMIT @limit OFFSET @offset
                """;
            parameters.Add(("match", match));
        }
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        var ids = new List<Guid>(limit);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(Guid.Parse(reader.GetString(0)));
        }
        return ids;
    }

    static bool Walks(int setSize, int limit, int offset) => setSize > WalkSortOrderAbove && offset + limit <= WalkSortOrderUpTo;

    /// <summary>The FTS5 expression of the set, or null when it has neither words nor filters (every live listing).</summary>
    static string? Match(SearchSet set)
    {
        var parts = new List<string>();
        if (set.Terms.Count > 0)
        {
            var any = SearchTerms.ToFts5Any(set.Terms);
            var text = set.Scope == TextScope.Anywhere
                ? $"{Columns(TextScope.Anywhere)} : ({SearchTerms.ToFts5(set.Terms)})"
                // One word in the scope is that word anywhere: skip the intersection with its (larger) doclist.
                : set.Terms.Count == 1
                    ? $"{Columns(set.Scope)} : ({any})"
                    : $"({Columns(TextScope.Anywhere)} : ({SearchTerms.ToFts5(set.Terms)})) AND ({Columns(set.Scope)} : ({any}))";
            parts.Add(set.Excluding is { } excluded ? $"({text}) NOT ({Columns(excluded)} : ({any}))" : text);
        }
        var filter = set.Filter;
        if (filter.Category is { } category)
        {
            parts.Add($"{{facets}} : \"c{Convert.ToHexStringLower(Encoding.UTF8.GetBytes(category))}\"");
        }
        if (filter.Model is { } model)
        {
            parts.Add($"{{facets}} : \"p{EnumNames<PricingModel>.ToName(model).Replace("_", "", StringComparison.Ordinal)}\"");
        }
        if (filter.MinRatingTenths is { } tenths)
        {
            parts.Add($"{{facets}} : \"r{tenths}\"");
        }
        return parts.Count == 0 ? null : string.Join(" AND ", parts.Select(p => $"({p})"));
    }

    static string Columns(TextScope scope) => scope switch
    {
        TextScope.Name => "{name}",
        TextScope.NameOrMeta => "{name meta}",
        TextScope.Anywhere => "{name meta body}",
    };

    /// <summary>The filters as conditions on the rows table, for browsing without words.</summary>
    static string RowFilters(CatalogFilter filter, out List<(string, object)> parameters)
    {
        parameters = [];
        var conditions = new List<string>();
        if (filter.Category is { } category)
        {
            conditions.Add("r.category = @category");
            parameters.Add(("category", category));
        }
        if (filter.Model is { } model)
        {
            conditions.Add("r.pricing_model = @model");
            parameters.Add(("model", EnumNames<PricingModel>.ToName(model)));
        }
        if (filter.MinRatingTenths is { } tenths)
        {
            conditions.Add("r.rating_tenths >= @rating");
            parameters.Add(("rating", tenths));
        }
        return conditions.Count == 0 ? "" : " WHERE " + string.Join(" AND ", conditions);
    }

    /// <summary>The index of listing_search_rows whose order is <see cref="OrderBy"/> (schema script 0007).</summary>
    static string SortIndex(CatalogSort sort) => sort switch
    {
        CatalogSort.Relevance => "listing_search_rows_boost",
        CatalogSort.Popular => "listing_search_rows_runs",
        CatalogSort.Rating => "listing_search_rows_rating",
        CatalogSort.Newest => "listing_search_rows_newest",
        CatalogSort.Price => "listing_search_rows_price",
    };

    static string OrderBy(CatalogSort sort) => sort switch
    {
        CatalogSort.Relevance => "r.boost DESC, r.id",
        CatalogSort.Popular => "r.runs DESC, r.id",
        CatalogSort.Rating => "r.rating_tenths DESC, r.reviews DESC, r.id",
        CatalogSort.Newest => "r.published DESC, r.id",
        CatalogSort.Price => "r.price, r.runs DESC, r.id",
    };

    async Task<object?> ScalarAsync(string sql, List<(string, object)> parameters, CancellationToken ct)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteScalarAsync(ct);
    }

    DbCommand Command(string sql, List<(string Name, object Value)> parameters)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@" + name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
