using Npgsql;

namespace AgentMarket.Bench;

/// <summary>
/// A throwaway database for one suite's run: its own data directory and, on PostgreSQL, a new database on the server
/// <c>AGENTMARKET_BENCH_POSTGRES</c> names (the dev server by default). Disposing drops both, unless <see cref="Keep"/>.
/// </summary>
sealed class BenchDatabase : IAsyncDisposable
{
    const string DevServer = "Host=127.0.0.1;Port=55500;Username=postgres;Database=postgres";

    readonly string? _server;
    readonly string? _database;

    BenchDatabase(string directory, string? server, string? database, string? connectionString)
    {
        Directory = directory;
        _server = server;
        _database = database;
        PostgresConnectionString = connectionString;
    }

    /// <summary>The PostgreSQL server the suites use: <c>AGENTMARKET_BENCH_POSTGRES</c>, else the dev server.</summary>
    public static string Server => Environment.GetEnvironmentVariable("AGENTMARKET_BENCH_POSTGRES") ?? DevServer;

    public string Directory { get; }

    /// <summary>The new PostgreSQL database's connection string; null on SQLite.</summary>
    public string? PostgresConnectionString { get; }

    public bool IsPostgres => PostgresConnectionString is not null;

    /// <summary>Leave the database and directory behind for inspection (EXPLAIN and the like).</summary>
    public bool Keep { get; init; }

    /// <param name="suite">Names the directory and the database, so a kept one says where it came from.</param>
    /// <param name="server">A PostgreSQL server for a new database, or null for SQLite.</param>
    /// <param name="configure">Connection settings of the new database (a bigger pool for concurrent suites).</param>
    public static async Task<BenchDatabase> CreateAsync(string suite, string? server, Action<NpgsqlConnectionStringBuilder>? configure = null, bool keep = false)
    {
        var id = Guid.NewGuid().ToString("N");
        var directory = Path.Combine(Path.GetTempPath(), $"am-{suite}-bench-{id}");
        System.IO.Directory.CreateDirectory(directory);
        if (server is null)
        {
            return new BenchDatabase(directory, null, null, null) { Keep = keep };
        }
        var database = $"am_{suite.Replace('-', '_')}_bench_{id}";
        await ExecuteAsync(server, $"CREATE DATABASE \"{database}\"");
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = database };
        configure?.Invoke(builder);
        return new BenchDatabase(directory, server, database, builder.ToString()) { Keep = keep };
    }

    /// <summary>Points a host's settings at this database.</summary>
    public Dictionary<string, string?> Apply(Dictionary<string, string?> settings)
    {
        settings["Storage:DataDirectory"] = Directory;
        settings["DataProtection:KeyEncryptionKeyFile"] = Path.Combine(Directory, "keys", "key-encryption.key"); // required on PostgreSQL
        if (PostgresConnectionString is not null)
        {
            settings["Database:Provider"] = "Postgres";
            settings["ConnectionStrings:Postgres"] = PostgresConnectionString;
        }
        return settings;
    }

    /// <summary>Refreshes PostgreSQL's planner statistics after seeding, as autovacuum eventually would; nothing on SQLite.</summary>
    public Task AnalyzeAsync() => PostgresConnectionString is null ? Task.CompletedTask : ExecuteAsync(PostgresConnectionString, "VACUUM ANALYZE");

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.CommandTimeout = 600;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Keep)
        {
            Console.WriteLine($"kept {Directory} {_database}");
            return;
        }
        if (_database is not null)
        {
            await ExecuteAsync(_server!, $"DROP DATABASE IF EXISTS \"{_database}\" WITH (FORCE)");
        }
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
