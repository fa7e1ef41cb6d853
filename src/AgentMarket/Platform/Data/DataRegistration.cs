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
sealed class DatabaseConnection
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
}
