using System.Diagnostics;
using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentMarket.Bench.Ledger;

/// <summary>
/// Ledger throughput: 64 concurrent clients doing reserve+settle pairs through the real <see cref="LedgerWriter"/> on a
/// real database, against one hot wallet and against 64 wallets, on SQLite (a temp file, WAL) and on PostgreSQL when
/// <c>AGENTMARKET_BENCH_POSTGRES</c> names a server. Reports settled runs per second and p50/p99 per operation.
/// </summary>
static class LedgerBench
{
    const int Clients = 64;

    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10;
        await RunProviderAsync("SQLite", DatabaseProvider.Sqlite, null, seconds);
        if (Environment.GetEnvironmentVariable("AGENTMARKET_BENCH_POSTGRES") is { Length: > 0 } postgres)
        {
            await RunProviderAsync("PostgreSQL", DatabaseProvider.Postgres, postgres, seconds);
        }
        else
        {
            Console.WriteLine("(set AGENTMARKET_BENCH_POSTGRES to a server connection string to measure PostgreSQL too)");
        }
        return 0;
    }

    static async Task RunProviderAsync(string name, DatabaseProvider provider, string? server, int seconds)
    {
        await using var database = await BenchDatabase.CreateAsync("ledger", server, c => c.MaxPoolSize = 100);
        var settings = database.Apply(new Dictionary<string, string?> { ["Database:Provider"] = provider.ToString() });
        await using var services = BuildServices(settings);
        await services.GetRequiredService<SchemaMigrator>().MigrateAsync(CancellationToken.None);
        var writer = services.GetRequiredService<LedgerWriter>();
        await MeasureAsync($"{name}, one hot wallet", writer, wallets: 1, seconds);
        await MeasureAsync($"{name}, 64 wallets", writer, wallets: Clients, seconds);
        await writer.StopAsync(CancellationToken.None);
    }

    static async Task MeasureAsync(string scenario, LedgerWriter writer, int wallets, int seconds)
    {
        var organizations = Enumerable.Range(0, wallets).Select(_ => Guid.CreateVersion7()).ToArray();
        var provider = Guid.CreateVersion7();
        foreach (var org in organizations)
        {
            await writer.SubmitAsync(new PurchaseCommand($"bench:{org}", org, 1_000_000_000, "bench", "bench", org.ToString()), CancellationToken.None);
        }
        var split = new RevenueSplit(2_000, 100);

        // Warm-up, then the measured window; every client records its own latencies.
        await RunClientsAsync(writer, organizations, provider, split, TimeSpan.FromSeconds(2), null, null);
        var reserves = new Measurements($"{scenario}: reserve");
        var settles = new Measurements($"{scenario}: settle");
        var clock = Stopwatch.StartNew();
        var settled = await RunClientsAsync(writer, organizations, provider, split, TimeSpan.FromSeconds(seconds), reserves, settles);
        var elapsed = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"{scenario}: {settled / elapsed:N0} settled runs/s ({settled:N0} in {elapsed:N1} s, {Clients} clients)");
        Console.WriteLine(reserves.Summary("ms"));
        Console.WriteLine(settles.Summary("ms"));
    }

    static async Task<long> RunClientsAsync(LedgerWriter writer, Guid[] organizations, Guid provider, RevenueSplit split, TimeSpan duration,
        Measurements? reserves, Measurements? settles)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long settled = 0;
        var sync = new object();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var org = organizations[client % organizations.Length];
            var latencies = new List<(double Reserve, double Settle)>();
            while (Stopwatch.GetTimestamp() < deadline)
            {
                var run = Guid.CreateVersion7();
                var start = Stopwatch.GetTimestamp();
                var reserve = await writer.SubmitAsync(new ReserveCommand($"run:{run}:reserve", org, 10, DateTime.UtcNow.AddMinutes(15), "run", run.ToString()), CancellationToken.None);
                var reserved = Stopwatch.GetTimestamp();
                var settle = await writer.SubmitAsync(new SettleCommand($"run:{run}:settle", org, reserve.OperationId, 7, provider, split, "bench"), CancellationToken.None);
                var done = Stopwatch.GetTimestamp();
                if (!reserve.Succeeded || !settle.Succeeded)
                {
                    throw new InvalidOperationException($"bench run failed: {reserve.Status} / {settle.Status}");
                }
                latencies.Add((Stopwatch.GetElapsedTime(start, reserved).TotalMilliseconds, Stopwatch.GetElapsedTime(reserved, done).TotalMilliseconds));
            }
            lock (sync)
            {
                settled += latencies.Count;
                foreach (var (reserve, settle) in latencies)
                {
                    reserves?.Add(reserve);
                    settles?.Add(settle);
                }
            }
        })));
        return settled;
    }

    static ServiceProvider BuildServices(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning).AddSimpleConsole());
        services.AddSingleton(TimeProvider.System);
        services.Configure<DatabaseOptions>(configuration.GetSection("Database"));
        services.Configure<StorageOptions>(configuration.GetSection("Storage"));
        services.AddSingleton<DatabaseConnection>();
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<LedgerWriter>();
        return services.BuildServiceProvider();
    }
}
