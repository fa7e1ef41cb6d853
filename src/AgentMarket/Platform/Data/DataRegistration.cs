using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

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
                ? postgres
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

    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }

    readonly SemaphoreSlim _sqliteWriter = new(1, 1);

    /// <summary>Writers queued for <see cref="_sqliteWriter"/>.</summary>
    int _waiting;

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
        Interlocked.Increment(ref _waiting);
        try
        {
            await _sqliteWriter.WaitAsync();
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        return new WriterTurn(_sqliteWriter);
    }

    /// <summary>
    /// A turn for background work no request waits for (the run projector). On SQLite it first lets the writers that
    /// requests wait for (the ledger's reserves, the journal's batches) go, looking every millisecond for up to
    /// <paramref name="patience"/>, then queues like them: a projector batch taken between a reserve and a journal batch
    /// stalled both, and concurrent runs with them (about 10% of SQLite's throughput at 64 clients, docs/benchmarks.md).
    /// </summary>
    public async ValueTask<WriterTurn> BackgroundWriterTurnAsync(TimeSpan patience)
    {
        var giveUp = Environment.TickCount64 + (long)patience.TotalMilliseconds;
        while (Provider == DatabaseProvider.Sqlite && Volatile.Read(ref _waiting) > 0 && Environment.TickCount64 < giveUp)
        {
            await Task.Delay(1);
        }
        return await WriterTurnAsync();
    }

    public void Dispose() => _sqliteWriter.Dispose();

    /// <summary>A turn to write; disposing it lets the next writer in.</summary>
    public readonly struct WriterTurn(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
