using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Platform.Data;

/// <summary>One statement (an insert, an upsert) applied to many rows, on its own (<see cref="StatementBatch.AddRows"/>).</summary>
static class RowStatements
{
    /// <inheritdoc cref="StatementBatch.AddRows"/>
    public static async Task ExecuteAsync<T>(
        DbConnection connection, DbTransaction? transaction, string head, string tail, int width, IReadOnlyList<T> rows,
        Action<DbCommand, T, int> bind)
    {
        await using var statements = new StatementBatch(connection, transaction);
        statements.AddRows(head, tail, width, rows, bind);
        await statements.ExecuteAsync();
    }

    /// <summary>Runs <paramref name="write"/>'s statements on the context's connection and in its transaction if one is open.</summary>
    public static async Task ExecuteAsync(AppDbContext db, Action<StatementBatch> write, CancellationToken ct)
    {
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var statements = new StatementBatch(db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction());
            write(statements);
            await statements.ExecuteAsync();
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The name of column <paramref name="column"/>'s parameter in row <paramref name="row"/>.</summary>
    public static string Name(int column, int row) => $"@c{column}_{row}";
}
