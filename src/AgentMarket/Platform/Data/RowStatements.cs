using System.Data.Common;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Platform.Data;

/// <summary>
/// One statement (an insert, an upsert) applied to many rows, the way each database does it fastest.
/// <para>
/// PostgreSQL: one multi-row statement per chunk of rows, so a batch costs one round trip instead of one per row.
/// </para>
/// <para>
/// SQLite: one single-row statement, prepared once and executed again for every row. SQLite runs in-process, so a
/// row costs microseconds, and a multi-row statement is slower there: SQLite looks up every named parameter by a
/// linear scan of the statement's names, when it parses the statement and again when each value is bound, so a
/// statement with n parameters costs O(n²). At a few thousand parameters (a batch of 64 runs' records) those string
/// comparisons took more of the single writer's time than the inserts did (docs/benchmarks.md, "Gateway").
/// </para>
/// </summary>
static class RowStatements
{
    /// <summary>Below both databases' limits on bound parameters per statement (SQLite 32,766; PostgreSQL 65,535).</summary>
    const int MaxParameters = 30_000;

    /// <param name="head">The statement up to its <c>VALUES</c> list, ending in <c>VALUES </c>.</param>
    /// <param name="tail">What follows the values (an <c>ON CONFLICT</c> clause), or empty.</param>
    /// <param name="width">How many parameters one row binds.</param>
    /// <param name="bind">
    /// Adds one row's <paramref name="width"/> parameters to the command, named by <see cref="Name"/>(column, row)
    /// with the row number it is given.
    /// </param>
    public static async Task ExecuteAsync<T>(
        DbConnection connection, DbTransaction? transaction, string head, string tail, int width, IReadOnlyList<T> rows,
        Action<DbCommand, T, int> bind)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        if (connection is SqliteConnection)
        {
            command.CommandText = head + Placeholders(width, 0) + tail;
            foreach (var row in rows)
            {
                command.Parameters.Clear();
                bind(command, row, 0);
                await command.ExecuteNonQueryAsync(); // prepared on the first row, only re-bound after
            }
            return;
        }
        var perChunk = Math.Max(1, MaxParameters / width);
        for (var start = 0; start < rows.Count; start += perChunk)
        {
            var count = Math.Min(perChunk, rows.Count - start);
            var text = new StringBuilder(head);
            command.Parameters.Clear();
            for (var r = 0; r < count; r++)
            {
                text.Append(r == 0 ? "" : ", ").Append(Placeholders(width, r));
                bind(command, rows[start + r], r);
            }
            command.CommandText = text.Append(tail).ToString();
            await command.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The same, on the context's connection and in its transaction if one is open.</summary>
    public static async Task ExecuteAsync<T>(
        AppDbContext db, string head, string tail, int width, IReadOnlyList<T> rows, Action<DbCommand, T, int> bind, CancellationToken ct)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await ExecuteAsync(db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction(), head, tail, width, rows, bind);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The name of column <paramref name="column"/>'s parameter in row <paramref name="row"/>.</summary>
    public static string Name(int column, int row) => $"@c{column}_{row}";

    static string Placeholders(int width, int row) =>
        "(" + string.Join(", ", Enumerable.Range(0, width).Select(c => Name(c, row))) + ")";
}
