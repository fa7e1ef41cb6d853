using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Adds to counter rows (rollups): one <c>INSERT … ON CONFLICT (keys) DO UPDATE SET counter = table.counter +
/// excluded.counter</c> for many rows, on both databases, so concurrent batches add up instead of racing an insert, and a
/// batch of rows costs one statement instead of one each. Values are bound as EF Core binds interpolated SQL.
/// </summary>
static class CounterUpserts
{
    /// <summary>Below both databases' limits on bound parameters per statement.</summary>
    const int MaxParameters = 30_000;

    /// <param name="table">The table, whose unique key is <paramref name="keys"/>.</param>
    /// <param name="rows">Each row's key values then counter values, in the order of the columns; no two rows with the same key.</param>
    public static async Task AddToCountersAsync(this AppDbContext db, string table, string[] keys, string[] counters, IReadOnlyCollection<object[]> rows, CancellationToken ct)
    {
        var columns = keys.Length + counters.Length;
        var updates = string.Join(", ", counters.Select(c => $"{c} = {table}.{c} + excluded.{c}"));
        foreach (var chunk in rows.Chunk(MaxParameters / columns))
        {
            var arguments = new List<object>(chunk.Length * columns);
            var values = new List<string>(chunk.Length);
            foreach (var row in chunk)
            {
                values.Add($"({string.Join(", ", Enumerable.Range(arguments.Count, columns).Select(i => $"{{{i}}}"))})"); // format items {n}, {n+1}, …
                arguments.AddRange(row);
            }
            await db.Database.ExecuteSqlAsync(FormattableStringFactory.Create(
                $"INSERT INTO {table} ({string.Join(", ", keys.Concat(counters))}) VALUES {string.Join(", ", values)} ON CONFLICT ({string.Join(", ", keys)}) DO UPDATE SET {updates}",
                [.. arguments]), ct);
        }
    }
}
