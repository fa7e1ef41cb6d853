using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Per-connection SQLite settings. WAL itself is persistent and set by the first schema script; these are not.
/// synchronous=NORMAL is durable under WAL except for the last commits on power loss, the usual trade-off for WAL.
/// mmap_size maps the database file into memory: SQLite empties a connection's page cache whenever another connection
/// has written, which under steady writes is always, and without the mapping every page read after that is a read()
/// system call and a copy (a sixth of the gateway's CPU time at 64 clients; docs/benchmarks.md, "Gateway").
/// wal_autocheckpoint=0: the log is checkpointed by <see cref="SqliteCheckpointer"/>, not by whichever commit crosses
/// the threshold (its caller would wait for the copy); journal_size_limit shrinks the log's file back to 64 MB when the
/// log starts over after a burst.
/// They last as long as the native connection, which the pool keeps across opens, so they are set once per native
/// connection rather than on every open (a run opens several).
/// </summary>
sealed class SqlitePragmas : DbConnectionInterceptor
{
    const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON; PRAGMA mmap_size=268435456; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;";

    /// <summary>The native connections already set; weak, so closed ones are forgotten.</summary>
    readonly ConditionalWeakTable<object, object> _set = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!AlreadySet(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
            Remember(connection);
        }
    }

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default) =>
        ApplyAsync(connection, cancellationToken);

    /// <summary>Sets the pragmas on an open connection opened outside EF Core (the ledger's own), once per native connection.</summary>
    public async Task ApplyAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        if (!AlreadySet(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            Remember(connection);
        }
    }

    bool AlreadySet(DbConnection connection) => connection is SqliteConnection { Handle: { } native } && _set.TryGetValue(native, out _);

    void Remember(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } native })
        {
            _set.TryAdd(native, native);
        }
    }
}
