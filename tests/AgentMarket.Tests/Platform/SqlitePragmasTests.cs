using AgentMarket.Platform.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Tests.Platform;

/// <summary>The per-connection SQLite settings are set once per native connection and still hold when the pool hands it out again.</summary>
public class SqlitePragmasTests
{
    sealed class Bare(DbContextOptions<Bare> options) : DbContext(options);

    [Fact]
    public async Task PooledConnections_KeepForeignKeysBusyTimeoutAndSynchronous_AcrossOpens()
    {
        var file = Path.Combine(Path.GetTempPath(), $"pragmas-{Guid.NewGuid():N}.db");
        var pragmas = new SqlitePragmas();
        var options = new DbContextOptionsBuilder<Bare>()
            .UseSqlite(new SqliteConnectionStringBuilder { DataSource = file, Pooling = true }.ToString())
            .AddInterceptors(pragmas)
            .Options;
        try
        {
            var handles = new List<object>();
            for (var open = 0; open < 3; open++)
            {
                await using var db = new Bare(options);
                await db.Database.OpenConnectionAsync();
                var connection = (SqliteConnection)db.Database.GetDbConnection();
                handles.Add(connection.Handle!);
                Assert.Equal((1L, 30_000L, 1L), (await PragmaAsync(connection, "foreign_keys"), await PragmaAsync(connection, "busy_timeout"), await PragmaAsync(connection, "synchronous")));
                await db.Database.CloseConnectionAsync();
            }
            // The pool gave the same native connection back: the later opens relied on the settings the first one made.
            Assert.All(handles, handle => Assert.Same(handles[0], handle));
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    static async Task<long> PragmaAsync(SqliteConnection connection, string name)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
