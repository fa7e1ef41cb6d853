using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Platform.Data;

/// <summary>Statements of a <see cref="StatementBatch"/> on an EF Core context's connection, and the names of row parameters.</summary>
static class RowStatements
{
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
