using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Per-connection SQLite settings. WAL itself is persistent and set by the first schema script; these are not.
/// synchronous=NORMAL is durable under WAL except for the last commits on power loss, the usual trade-off for WAL.
/// </summary>
sealed class SqlitePragmas : DbConnectionInterceptor
{
    const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
