using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Data;

/// <summary>
/// A table of counters (a rollup, a session's spend): rows found by <see cref="Keys"/> (its unique key), whose
/// <see cref="Counters"/> add up. <see cref="InsertOnly"/> columns are written when the row is created and never changed;
/// <see cref="Latest"/> columns take the newest value.
/// </summary>
sealed record CounterTable(string Name, string[] Keys, string[] Counters)
{
    public string[] InsertOnly { get; init; } = [];
    public string[] Latest { get; init; } = [];

    /// <summary>The columns in the order a row's values are given: keys, insert-only, latest, counters.</summary>
    public IEnumerable<string> Columns => [.. Keys, .. InsertOnly, .. Latest, .. Counters];
}

/// <summary>
/// Adds to counter rows: one <c>INSERT … ON CONFLICT (keys) DO UPDATE SET counter = table.counter + excluded.counter</c>
/// for many rows, on both databases, so concurrent batches add up instead of racing an insert, and a batch of rows costs
/// one statement instead of one each. Values are bound as EF Core binds interpolated SQL.
/// </summary>
static class CounterUpserts
{
    /// <summary>Below both databases' limits on bound parameters per statement.</summary>
    const int MaxParameters = 30_000;

    /// <param name="rows">Each row's values in the order of <see cref="CounterTable.Columns"/>; no two rows with the same key.</param>
    public static async Task AddToCountersAsync(this AppDbContext db, CounterTable table, IReadOnlyCollection<object[]> rows, CancellationToken ct)
    {
        var columns = table.Columns.ToList();
        var updates = string.Join(", ", table.Counters.Select(c => $"{c} = {table.Name}.{c} + excluded.{c}").Concat(table.Latest.Select(c => $"{c} = excluded.{c}")));
        var head = $"INSERT INTO {table.Name} ({string.Join(", ", columns)}) VALUES ";
        var tail = $" ON CONFLICT ({string.Join(", ", table.Keys)}) DO UPDATE SET {updates}";
        foreach (var chunk in rows.Chunk(MaxParameters / columns.Count))
        {
            var arguments = new List<object>(chunk.Length * columns.Count);
            var values = new List<string>(chunk.Length);
            foreach (var row in chunk)
            {
                values.Add($"({string.Join(", ", Enumerable.Range(arguments.Count, columns.Count).Select(i => $"{{{i}}}"))})"); // format items {n}, {n+1}, …
                arguments.AddRange(row);
            }
            await db.Database.ExecuteSqlAsync(FormattableStringFactory.Create(head + string.Join(", ", values) + tail, [.. arguments]), ct);
        }
    }
}
