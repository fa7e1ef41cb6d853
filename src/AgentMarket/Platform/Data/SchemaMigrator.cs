using System.Data.Common;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Applies the embedded, versioned SQL scripts of the configured provider (<c>Migrations/{Sqlite,Postgres}/NNNN_name.sql</c>)
/// in order, each in its own transaction, and records them in <c>schema_migrations</c>. EF's migration tooling cannot be
/// restored here (ADR-003), so these scripts are the schema's source of truth; a test proves they match the EF model.
/// </summary>
sealed class SchemaMigrator(DatabaseConnection database, ILogger<SchemaMigrator> logger)
{
    // Any constant works; it only has to be the same for every replica so they migrate one at a time.
    const long PostgresMigrationLockKey = 7_302_202_611;

    public sealed record Script(string Version, string Name, string Sql);

    public IReadOnlyList<Script> Scripts { get; } = LoadScripts(database.Provider);

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        if (database.Provider == DatabaseProvider.Postgres)
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({PostgresMigrationLockKey})", cancellationToken);
        }
        else
        {
            // WAL lets readers proceed while the single writer commits; it is persistent, so setting it once is enough.
            await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL", cancellationToken);
        }
        try
        {
            await ExecuteAsync(connection, null,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(20) NOT NULL PRIMARY KEY, name varchar(200) NOT NULL, applied_at varchar(40) NOT NULL)",
                cancellationToken);
            foreach (var script in Scripts)
            {
                await ApplyAsync(connection, script, cancellationToken);
            }
        }
        finally
        {
            if (database.Provider == DatabaseProvider.Postgres)
            {
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({PostgresMigrationLockKey})", CancellationToken.None);
            }
        }
    }

    /// <summary>Versions shipped with this build that the database has not recorded yet (empty when up to date).</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var applied = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT version FROM schema_migrations";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetString(0));
            }
        }
        catch (DbException)
        {
            // No schema_migrations table yet: everything is pending.
        }
        return Scripts.Where(s => !applied.Contains(s.Version)).Select(s => s.Version).ToList();
    }

    async Task ApplyAsync(DbConnection connection, Script script, CancellationToken cancellationToken)
    {
        // On SQLite this is BEGIN IMMEDIATE: the write lock is taken before the check, so two processes starting
        // together apply each script once. On PostgreSQL the advisory lock does the same.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var check = connection.CreateCommand())
        {
            check.Transaction = transaction;
            check.CommandText = "SELECT COUNT(*) FROM schema_migrations WHERE version = @version";
            AddParameter(check, "@version", script.Version);
            if (Convert.ToInt64(await check.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                return;
            }
        }
        logger.LogInformation("Applying schema script {Version} {Name}", script.Version, script.Name);
        await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);
        await using (var record = connection.CreateCommand())
        {
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@version, @name, @applied)";
            AddParameter(record, "@version", script.Version);
            AddParameter(record, "@name", script.Name);
            AddParameter(record, "@applied", DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        DbConnection connection = database.Provider == DatabaseProvider.Postgres
            ? new NpgsqlConnection(database.ConnectionString)
            : new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    static async Task ExecuteAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 300;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static void AddParameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    static List<Script> LoadScripts(DatabaseProvider provider)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"{typeof(SchemaMigrator).Namespace}.Migrations.{provider}.";
        var scripts = new List<Script>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var fileName = resource[prefix.Length..^".sql".Length];
            var separator = fileName.IndexOf('_', StringComparison.Ordinal);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add(new Script(fileName[..separator], fileName[(separator + 1)..], reader.ReadToEnd()));
        }
        return scripts;
    }
}

/// <summary>Brings the schema up to date before the host starts serving (when <c>Database:MigrateOnStartup</c> is on).</summary>
sealed class MigrateOnStartup(SchemaMigrator migrator, Microsoft.Extensions.Options.IOptions<DatabaseOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) =>
        options.Value.MigrateOnStartup ? migrator.MigrateAsync(cancellationToken) : Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
