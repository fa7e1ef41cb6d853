using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;

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
/// Adds to counter rows: <c>INSERT … ON CONFLICT (keys) DO UPDATE SET counter = table.counter + excluded.counter</c>
/// for many rows (<see cref="StatementBatch.AddRows"/>), on both databases, so concurrent batches add up instead of racing an
/// insert. Values are bound as EF Core binds interpolated SQL: by the type mapping of each value's CLR type.
/// </summary>
static class CounterUpserts
{
    /// <param name="rows">Each row's values in the order of <see cref="CounterTable.Columns"/>; no two rows with the same key.</param>
    public static Task AddToCountersAsync(this AppDbContext db, CounterTable table, IReadOnlyList<object[]> rows, CancellationToken ct) =>
        rows.Count == 0 ? Task.CompletedTask : RowStatements.ExecuteAsync(db, statements => statements.AddToCounters(db, table, rows), ct);

    /// <summary>Adds the upsert of <paramref name="rows"/> to the batch.</summary>
    /// <inheritdoc cref="AddToCountersAsync" path="/param[@name='rows']"/>
    public static void AddToCounters(this StatementBatch statements, AppDbContext db, CounterTable table, IReadOnlyList<object[]> rows)
    {
        var columns = table.Columns.ToList();
        var updates = string.Join(", ", table.Counters.Select(c => $"{c} = {table.Name}.{c} + excluded.{c}").Concat(table.Latest.Select(c => $"{c} = excluded.{c}")));
        var head = $"INSERT INTO {table.Name} ({string.Join(", ", columns)}) VALUES ";
        var tail = $" ON CONFLICT ({string.Join(", ", table.Keys)}) DO UPDATE SET {updates}";
        var mappings = db.GetService<IRelationalTypeMappingSource>();
        statements.AddRows(head, tail, columns.Count, rows, (command, row, r) =>
        {
            for (var c = 0; c < row.Length; c++)
            {
                command.Parameters.Add(mappings.GetMappingForValue(row[c]).CreateParameter(command, RowStatements.Name(c, r), row[c]));
            }
        });
    }
}
