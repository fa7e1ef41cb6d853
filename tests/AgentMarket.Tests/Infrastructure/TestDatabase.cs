using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// A throwaway database for one app fixture: a SQLite file in a temp folder by default, or a fresh database on the
/// PostgreSQL server named by <c>AGENTMARKET_TEST_POSTGRES</c> (test.sh starts one and runs the suite again on it).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "AGENTMARKET_TEST_POSTGRES";

    readonly string? _postgresAdmin;
    readonly string? _databaseName;

    TestDatabase(string provider, string connectionString, string directory, string? postgresAdmin, string? databaseName)
    {
        Provider = provider;
        ConnectionString = connectionString;
        Directory = directory;
        _postgresAdmin = postgresAdmin;
        _databaseName = databaseName;
    }

    public static bool IsPostgres => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable));

    public string Provider { get; }
    public string ConnectionString { get; }

    /// <summary>The fixture's data directory (SQLite file, uploads, keys).</summary>
    public string Directory { get; }

    public static TestDatabase Create()
    {
        var directory = Path.Combine(Path.GetTempPath(), "agentmarket-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var postgres = Environment.GetEnvironmentVariable(PostgresVariable);
        if (string.IsNullOrEmpty(postgres))
        {
            var sqlite = new SqliteConnectionStringBuilder { DataSource = Path.Combine(directory, "agentmarket.db"), Pooling = true, DefaultTimeout = 30 }.ToString();
            return new TestDatabase("Sqlite", sqlite, directory, null, null);
        }
        var name = $"am_test_{Guid.NewGuid():N}";
        using (var admin = new NpgsqlConnection(postgres))
        {
            admin.Open();
            using var create = admin.CreateCommand();
            create.CommandText = $"CREATE DATABASE \"{name}\"";
            create.ExecuteNonQuery();
        }
        var builder = new NpgsqlConnectionStringBuilder(postgres) { Database = name };
        return new TestDatabase("Postgres", builder.ToString(), directory, postgres, name);
    }

    /// <summary>The key-encryption key's file, created by the first process that starts.</summary>
    public string KeyEncryptionKeyFile => Path.Combine(Directory, "keys", "key-encryption.key");

    /// <summary>Configuration that points the app at this database.</summary>
    public IEnumerable<KeyValuePair<string, string?>> Settings()
    {
        yield return new("Database:Provider", Provider);
        yield return new("Storage:DataDirectory", Directory);
        // Processes on one database share its key-encryption key, as replicas would (PostgreSQL requires it to be set).
        yield return new("DataProtection:KeyEncryptionKeyFile", KeyEncryptionKeyFile);
        if (Provider == "Postgres")
        {
            yield return new("ConnectionStrings:Postgres", ConnectionString);
        }
        else
        {
            yield return new("Database:SqliteConnectionString", ConnectionString);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresAdmin is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(_postgresAdmin);
            await admin.OpenAsync();
            await using var drop = admin.CreateCommand();
            drop.CommandText = $"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)";
            await drop.ExecuteNonQueryAsync();
        }
        else
        {
            SqliteConnection.ClearAllPools();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a finishing background task; the temp folder is cleaned by the OS.
        }
    }
}
