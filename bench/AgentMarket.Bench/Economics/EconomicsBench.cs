using System.Diagnostics;
using System.Globalization;
using System.Text;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using AgentMarket.Providers.Economics;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Bench.Economics;

/// <summary>
/// The provider dashboard (<see cref="ProviderEconomics.ReportAsync"/>, what <c>GET /api/providers/mine/economics/</c>
/// answers) over daily rollups of about a million runs, on SQLite or PostgreSQL. The database generates the rollups
/// (INSERT … SELECT over staging tables of ids): a year of 20 providers with 20 agents each and 2,000 customer
/// organizations; the measured provider (the busiest, ~40% of the runs) has 15 active customers per agent and day with
/// 1–6 runs each, the others 3 with 1–2, plus latency histograms.
/// Run: see docs/benchmarks.md.
/// </summary>
static class EconomicsBench
{
    const int Days = 365;
    const int Providers = 20;
    const int AgentsPerProvider = 20;
    const int Customers = 2_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var provider = args.ElementAtOrDefault(0) ?? "sqlite";
        var iterations = int.Parse(args.ElementAtOrDefault(1) ?? "200", CultureInfo.InvariantCulture);
        if (provider is not ("sqlite" or "postgres"))
        {
            Console.Error.WriteLine("usage: economics sqlite|postgres [iterations]");
            return 2;
        }
        await using var database = await BenchDatabase.CreateAsync("economics", provider == "postgres" ? BenchDatabase.Server : null);
        var settings = database.Apply(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "None",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = Environment.GetEnvironmentVariable("BENCH_SQL") is null ? "None" : "Information",
        });
        await using var app = BuildHost(settings);
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        var (measured, rows) = await SeedAsync(app.Services, provider == "postgres");
        Console.WriteLine($"{provider}: seeded {rows:N0} rollup rows in {clock.Elapsed.TotalSeconds:0.0} s");
        await database.AnalyzeAsync();

        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var mixes = new (string Name, DateOnly From, EconomicsGrouping GroupBy)[]
        {
            ("30 days by day", today.AddDays(-29), EconomicsGrouping.Day),
            ("30 days by agent", today.AddDays(-29), EconomicsGrouping.Agent),
            ("365 days by day", today.AddDays(-364), EconomicsGrouping.Day),
            ("365 days by agent", today.AddDays(-364), EconomicsGrouping.Agent),
        };
        foreach (var (name, from, groupBy) in mixes)
        {
            var measurements = new Measurements($"{provider} {name}");
            for (var i = 0; i < Math.Max(5, iterations / 10); i++)
            {
                await ReportOnceAsync(app.Services, measured, from, today, groupBy); // warm-up: caches, plans, JIT
            }
            for (var i = 0; i < iterations; i++)
            {
                measurements.Add(await ReportOnceAsync(app.Services, measured, from, today, groupBy));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{measurements.Name,-48} n={measurements.Count,5}  p50={measurements.Percentile(50),7:0.00} ms  p95={measurements.Percentile(95),7:0.00} ms  p99={measurements.Percentile(99),7:0.00} ms"));
        }
        return 0;
    }

    internal static WebApplication BuildHost(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddPlatform();
        builder.AddIdentityArea();
        builder.AddProviders();
        builder.AddCatalog();
        builder.AddEconomics();
        // The reports first wait for the runs the journal committed (ADR-052); the bench journals none, so they never wait.
        builder.Services.AddSingleton<AgentMarket.Gateway.RunProjector>();
        return builder.Build();
    }

    static async Task<double> ReportOnceAsync(IServiceProvider services, (Guid Provider, Guid Organization) measured, DateOnly from, DateOnly to, EconomicsGrouping groupBy)
    {
        // A scope per request, acting for the provider's organization as the API does.
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().Set(measured.Organization, MembershipRole.Owner);
        var economics = scope.ServiceProvider.GetRequiredService<ProviderEconomics>();
        var clock = Stopwatch.StartNew();
        var mine = await economics.MineAsync(CancellationToken.None) ?? throw new InvalidOperationException("The measured provider is missing.");
        await economics.ReportAsync(mine.Id, from, to, groupBy, CancellationToken.None);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Providers, agents and customers through EF; rollups and histograms as multi-row INSERTs.</summary>
    internal static async Task<((Guid Provider, Guid Organization) Measured, long Rows)> SeedAsync(IServiceProvider services, bool postgres)
    {
        var now = DateTime.UtcNow;
        var providers = new List<(Guid Id, Guid Organization, List<Guid> Listings)>();
        var customers = new List<Guid>();
        await using (var scope = services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var category = new Category { Slug = "assistants", Name = "Assistants", SortOrder = 0 };
            db.Categories.Add(category);
            for (var p = 0; p < Providers; p++)
            {
                var organization = new Organization { Name = $"Provider organization {p}", CreatedUtc = now };
                var seller = new Provider { OrganizationId = organization.Id, Handle = $"provider-{p}", Name = $"Provider {p}", State = ProviderState.Approved, CreatedUtc = now };
                db.Organizations.Add(organization);
                db.Providers.Add(seller);
                var listings = new List<Guid>();
                for (var a = 0; a < AgentsPerProvider; a++)
                {
                    var listing = new Listing
                    {
                        ProviderId = seller.Id,
                        OrganizationId = organization.Id,
                        Slug = $"agent-{p}-{a}",
                        Name = $"Agent {p}-{a}",
                        CategoryId = category.Id,
                        ShortDescription = "An agent.",
                        Description = "An agent.",
                        Tags = [],
                        PricingModel = PricingModel.FixedCredits,
                        CreditsPerRun = 1 + a,
                        Visibility = ListingVisibility.Public,
                        State = ListingState.Active,
                        CreatedUtc = now,
                        PublishedUtc = now,
                    };
                    db.Listings.Add(listing);
                    listings.Add(listing.Id);
                }
                providers.Add((seller.Id, organization.Id, listings));
            }
            for (var c = 0; c < Customers; c++)
            {
                var organization = new Organization { Name = $"Customer {c}", CreatedUtc = now };
                db.Organizations.Add(organization);
                customers.Add(organization.Id);
            }
            await db.SaveChangesAsync();
        }

        // Staging tables of ids and days, then the rollups generated by the database itself (INSERT … SELECT): the measured
        // provider has 15 active customers per agent and day with 1–6 runs each, the others 3 with 1–2 runs each.
        var today = DateOnly.FromDateTime(now);
        var (uuid, date) = postgres ? ("uuid", "date") : ("TEXT", "TEXT");
        await ExecuteRawAsync(services,
            $"CREATE TABLE bench_agents (n integer, provider_n integer, provider_id {uuid}, listing_id {uuid}, price integer)",
            $"CREATE TABLE bench_customers (n integer, id {uuid})",
            $"CREATE TABLE bench_days (n integer, day {date})",
            "CREATE TABLE bench_slots (n integer, ms integer)");
        await InsertAsync(services, "bench_agents", providers.SelectMany((p, pn) => p.Listings.Select((l, ln) =>
            string.Create(CultureInfo.InvariantCulture, $"({pn * AgentsPerProvider + ln}, {pn}, {Id(p.Id, postgres)}, {Id(l, postgres)}, {1 + ln})"))).ToList());
        await InsertAsync(services, "bench_customers", customers.Select((c, n) => string.Create(CultureInfo.InvariantCulture, $"({n}, {Id(c, postgres)})")).ToList());
        await InsertAsync(services, "bench_days", Enumerable.Range(0, Days).Select(n => string.Create(CultureInfo.InvariantCulture, $"({n}, {Day(today.AddDays(-n))}{(postgres ? "::date" : "")})")).ToList());
        int[] buckets = [180, 220, 260, 300, 350, 420, 500, 650, 800, 1100, 1500, 2400, 3000, 4500, 6000];
        await InsertAsync(services, "bench_slots", buckets.Select((ms, n) => string.Create(CultureInfo.InvariantCulture, $"({n}, {ms})")).ToList());
        await ExecuteRawAsync(services, string.Create(CultureInfo.InvariantCulture, $"""
            INSERT INTO economics_days (provider_id, day, listing_id, buyer_organization_id, runs, succeeded, gross_credits, promotional_credits,
                provider_earnings, platform_fees, input_tokens, output_tokens, model_cost_microcredits, latency_ms_sum)
            SELECT a.provider_id, d.day, a.listing_id, c.id, r.runs, r.runs, r.runs * a.price, r.runs * a.price / 4,
                r.runs * a.price - (r.runs * a.price * 2000 + 5000) / 10000, (r.runs * a.price * 2000 + 5000) / 10000,
                r.runs * 600, r.runs * 200, r.runs * 350000, r.runs * 900
            FROM bench_days d CROSS JOIN bench_agents a
            JOIN bench_slots s ON s.n < CASE WHEN a.provider_n = 0 THEN 15 ELSE 3 END
            JOIN bench_customers c ON c.n = (a.n * 37 + d.n * 11 + s.n * 101) % {Customers}
            JOIN (SELECT n, n + 1 AS runs FROM bench_slots) r ON r.n = (a.n + d.n + s.n) % CASE WHEN a.provider_n = 0 THEN 6 ELSE 2 END
            """),
            """
            INSERT INTO economics_latency_days (provider_id, day, latency_ms, runs)
            SELECT a.provider_id, d.day, s.ms, SUM(1 + (a.n + d.n + s.n) % 5)
            FROM bench_days d CROSS JOIN bench_agents a JOIN bench_slots s ON s.n < CASE WHEN a.provider_n = 0 THEN 12 ELSE 2 END
            GROUP BY a.provider_id, d.day, s.ms
            """,
            "DROP TABLE bench_agents", "DROP TABLE bench_customers", "DROP TABLE bench_days", "DROP TABLE bench_slots");
        await RollUpAsync(services, postgres);
        await using var count = services.CreateAsyncScope();
        var db2 = count.ServiceProvider.GetRequiredService<AppDbContext>();
        var seededRuns = await db2.EconomicsDays.SumAsync(d => d.Runs);
        var rows = await db2.EconomicsDays.CountAsync() + await db2.EconomicsLatencies.CountAsync()
            + await db2.EconomicsListingDays.CountAsync() + await db2.EconomicsCustomerMonths.CountAsync();
        Console.WriteLine($"rollups hold {seededRuns:N0} runs; the measured provider {await db2.EconomicsDays.Where(d => d.ProviderId == providers[0].Id).SumAsync(d => d.Runs):N0}");
        return ((providers[0].Id, providers[0].Organization), rows);
    }

    /// <summary>The listing-days and customer-months from the buyer-level days, as the 0018 scripts backfill them and the rollups maintain them.</summary>
    static Task RollUpAsync(IServiceProvider services, bool postgres)
    {
        var (month, visitor) = postgres
            ? ("date_trunc('month', day)::date", "'00000000-0000-0000-0000-000000000000'::uuid")
            : ("substr(day, 1, 8) || '01'", "'00000000-0000-0000-0000-000000000000'");
        return ExecuteRawAsync(services,
            """
            INSERT INTO economics_listing_days (provider_id, day, listing_id, runs, succeeded, gross_credits, promotional_credits, provider_earnings,
                platform_fees, input_tokens, output_tokens, model_cost_microcredits, latency_ms_sum)
            SELECT provider_id, day, listing_id, SUM(runs), SUM(succeeded), SUM(gross_credits), SUM(promotional_credits), SUM(provider_earnings),
                SUM(platform_fees), SUM(input_tokens), SUM(output_tokens), SUM(model_cost_microcredits), SUM(latency_ms_sum)
            FROM economics_days GROUP BY provider_id, day, listing_id
            """,
            $"""
            INSERT INTO economics_customer_months (provider_id, month, buyer_organization_id, runs, gross_credits)
            SELECT provider_id, {month}, buyer_organization_id, SUM(runs), SUM(gross_credits)
            FROM economics_days WHERE buyer_organization_id <> {visitor} GROUP BY provider_id, {month}, buyer_organization_id
            """);
    }

    internal static async Task ExecuteRawAsync(IServiceProvider services, params string[] statements)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        db.Database.SetCommandTimeout(TimeSpan.FromMinutes(10));
        foreach (var sql in statements)
        {
#pragma warning disable EF1002 // fixed statements, no input
            await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
        }
    }

    /// <summary>Rows of generated values (no user input), a thousand per statement, in one transaction.</summary>
    static async Task<long> InsertAsync(IServiceProvider services, string into, List<string> rows)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        foreach (var chunk in rows.Chunk(1_000))
        {
            var sql = new StringBuilder("INSERT INTO ").Append(into).Append(" VALUES ").AppendJoin(",", chunk).ToString();
#pragma warning disable EF1002 // generated numbers and ids only
            await db.Database.ExecuteSqlRawAsync(sql);
#pragma warning restore EF1002
        }
        await transaction.CommitAsync();
        return rows.Count;
    }

    // SQLite stores EF's Guids as upper-case text and dates as ISO text; PostgreSQL has uuid and date.
    static string Id(Guid id, bool postgres) => postgres ? $"'{id}'::uuid" : $"'{id.ToString().ToUpperInvariant()}'";

    static string Day(DateOnly day) => $"'{day:yyyy-MM-dd}'";
}
