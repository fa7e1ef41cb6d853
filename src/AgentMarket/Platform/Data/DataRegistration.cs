using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AgentMarket.Platform.Data;

static class DataRegistration
{
    public static void AddData(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>().BindConfiguration("Database");
        builder.Services.AddOptions<StorageOptions>().BindConfiguration("Storage").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<DatabaseConnection>();
        builder.Services.AddSingleton<SqlitePragmas>();
        // Scoped factory: contexts it creates share the request's CurrentTenant (the tenant filter), for work that needs
        // several contexts at once (a run's concurrent branches); it registers the scoped AppDbContext too.
        builder.Services.AddDbContextFactory<AppDbContext>((services, options) =>
        {
            var connection = services.GetRequiredService<DatabaseConnection>();
            // Areas observe saved changes through interceptors they register (the gateway's cache invalidation).
            options.AddInterceptors(services.GetServices<IInterceptor>());
            if (connection.Provider == DatabaseProvider.Postgres)
            {
                options.UseNpgsql(connection.ConnectionString);
            }
            else
            {
                options.UseSqlite(connection.ConnectionString).AddInterceptors(services.GetRequiredService<SqlitePragmas>());
            }
        }, ServiceLifetime.Scoped);
        builder.Services.AddSingleton<SchemaMigrator>();
        builder.Services.AddHostedService<MigrateOnStartup>();
        builder.Services.AddHostedService<SqliteCheckpointer>(); // after the schema (and WAL mode) is set
    }
}

/// <summary>The provider and connection string the process uses, resolved once from configuration.</summary>
sealed class DatabaseConnection : IDisposable
{
    public DatabaseConnection(IOptions<DatabaseOptions> database, IOptions<StorageOptions> storage, IConfiguration configuration)
    {
        Provider = database.Value.Provider;
        if (Provider == DatabaseProvider.Postgres)
        {
            ConnectionString = configuration.GetConnectionString("Postgres") is { Length: > 0 } postgres
                ? WithAutoPrepare(postgres)
                : throw new InvalidOperationException("Database:Provider is Postgres but ConnectionStrings:Postgres is not set.");
            return;
        }
        if (database.Value.SqliteConnectionString is { Length: > 0 } explicitConnection)
        {
            ConnectionString = explicitConnection;
            return;
        }
        var directory = Path.GetFullPath(storage.Value.DataDirectory);
        Directory.CreateDirectory(directory);
        ConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, "agentmarket.db"),
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>
    /// Turns on Npgsql's automatic preparation unless the connection string sets it: the statements a run sends are
    /// the same few texts again and again, and a prepared statement skips PostgreSQL's parse and plan (a concurrency-1
    /// run's median fell from 3.8 to 2.5 ms; docs/benchmarks.md, "Gateway"). Behind a pooler that cannot keep prepared
    /// statements (PgBouncer's transaction mode before 1.21), set <c>Max Auto Prepare=0</c>.
    /// </summary>
    internal static string WithAutoPrepare(string connectionString)
    {
        if (connectionString.Replace(" ", "", StringComparison.Ordinal).Contains("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            return connectionString;
        }
        return new NpgsqlConnectionStringBuilder(connectionString) { MaxAutoPrepare = 256, AutoPrepareMinUsages = 2 }.ToString();
    }

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }

    readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    /// <summary>
    /// Waits for this process's turn to write on SQLite, which allows one writer at a time: the batch writers (the
    /// ledger's and the run journal's) queue here, in order, instead of in SQLite's busy handler, which sleeps for
    /// milliseconds between retries. Returns at once on PostgreSQL, whose row locks let writers run side by side.
    /// </summary>
    public async ValueTask<WriterTurn> WriterTurnAsync()
    {
        if (Provider == DatabaseProvider.Postgres)
        {
            return default;
        }
        await _sqliteWriter.WaitAsync();
        return new WriterTurn(_sqliteWriter);
    }

    public void Dispose() => _sqliteWriter.Dispose();

    /// <summary>A turn to write; disposing it lets the next writer in.</summary>
    public readonly struct WriterTurn(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
