using System.Diagnostics;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Search;
using AgentMarket.Identity;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Bench.Search;

/// <summary>
/// Catalog search latency on a generated catalog, through the same service the API and the home page call
/// (<see cref="CatalogQueries.BrowseAsync"/>: the full-text query, filters, sort, count and the page of cards), on SQLite
/// or PostgreSQL. Query mixes: one word, two words, a prefix being typed, and a word with filters and a sort.
/// Run: see docs/benchmarks.md.
/// </summary>
static class SearchBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var provider = args.ElementAtOrDefault(0) ?? "sqlite";
        var listings = int.Parse(args.ElementAtOrDefault(1) ?? "10000", System.Globalization.CultureInfo.InvariantCulture);
        var iterations = int.Parse(args.ElementAtOrDefault(2) ?? "2000", System.Globalization.CultureInfo.InvariantCulture);
        // "keep" leaves the generated database behind for inspection (EXPLAIN QUERY PLAN and the like).
        var keep = args.ElementAtOrDefault(3) == "keep";
        if (provider is not ("sqlite" or "postgres"))
        {
            Console.Error.WriteLine("usage: search sqlite|postgres [listings] [iterations] [keep]");
            return 2;
        }
        await using var database = await BenchDatabase.CreateAsync("search", provider == "postgres" ? BenchDatabase.Server : null, keep: keep);
        var settings = database.Apply(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "None",
        });
        await using var app = BuildHost(settings);
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(CancellationToken.None);

        var clock = Stopwatch.StartNew();
        await new GeneratedCatalog(seed: 42).InsertAsync(() => NewContext(app.Services), listings);
        Console.WriteLine($"{provider}: generated {listings:N0} listings in {clock.Elapsed.TotalSeconds:0.0} s");
        await database.AnalyzeAsync();

        var queries = new GeneratedCatalog(seed: 7);
        var mixes = new (string Name, Func<CatalogFilter> Next)[]
        {
            ("one word", () => new CatalogFilter(Search: queries.QueryWord() + " ")),
            ("two words", () => new CatalogFilter(Search: $"{queries.QueryWord()} {queries.QueryWord()} ")),
            ("prefix (typing)", () => new CatalogFilter(Search: Prefix(queries.QueryWord()))),
            ("word + category + sort", () => new CatalogFilter(Search: queries.QueryWord() + " ", Category: Category(queries), Sort: CatalogSort.Popular)),
            ("word + free + min rating", () => new CatalogFilter(Search: queries.QueryWord() + " ", FreeOnly: true, MinRating: 4)),
            ("browse: category, no text", () => new CatalogFilter(Category: Category(queries), Sort: CatalogSort.Rating)),
        };
        var all = new Measurements($"{provider} {listings:N0} all mixes");
        foreach (var (name, next) in mixes)
        {
            var measurements = new Measurements($"{provider} {listings:N0} {name}");
            for (var i = 0; i < iterations / 10; i++)
            {
                await SearchOnceAsync(app.Services, next()); // warm-up: caches, plans, JIT
            }
            for (var i = 0; i < iterations; i++)
            {
                var elapsed = await SearchOnceAsync(app.Services, next());
                measurements.Add(elapsed);
                all.Add(elapsed);
            }
            Console.WriteLine(Line(measurements));
        }
        Console.WriteLine(Line(all));
        return 0;
    }

    /// <summary>The host's own services (data layer with its SQLite pragmas, catalog), without starting a server or jobs.</summary>
    static WebApplication BuildHost(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddPlatform();
        builder.AddIdentityArea();
        builder.AddProviders();
        builder.AddCatalog();
        return builder.Build();
    }

    static AppDbContext NewContext(IServiceProvider services)
    {
        var scope = services.CreateScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        return scope.ServiceProvider.GetRequiredService<AppDbContext>();
    }

    static async Task<double> SearchOnceAsync(IServiceProvider services, CatalogFilter filter)
    {
        // A scope per query, as a request has.
        await using var scope = services.CreateAsyncScope();
        var catalog = scope.ServiceProvider.GetRequiredService<CatalogQueries>();
        var clock = Stopwatch.StartNew();
        await catalog.BrowseAsync(filter, CancellationToken.None);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>p50, p95 (the target) and p99 of one mix, in milliseconds.</summary>
    static string Line(Measurements m) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{m.Name,-48} n={m.Count,6}  p50={m.Percentile(50),7:0.00} ms  p95={m.Percentile(95),7:0.00} ms  p99={m.Percentile(99),7:0.00} ms  max={m.Percentile(100),7:0.00} ms");

    static string Prefix(string word) => word.Length <= 3 ? word : word[..Math.Max(2, word.Length / 2)];

    static string Category(GeneratedCatalog random) => (random.Word().Length % 4) switch
    {
        0 => "agents",
        1 => "apps",
        2 => "assistants",
        _ => "automations",
    };
}
