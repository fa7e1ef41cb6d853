using System.Diagnostics;
using System.Globalization;
using AgentMarket.Admin.PlatformMetrics;
using AgentMarket.Bench.Economics;
using AgentMarket.Identity;
using AgentMarket.Payments;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Bench.PlatformMetrics;

/// <summary>
/// The operator's platform metrics (<see cref="PlatformMetricsQueries.ReportAsync"/>, what
/// <c>GET /api/admin/platform-metrics/</c> and <c>/admin/platform-metrics</c> read) over a year of about a million runs,
/// on SQLite or PostgreSQL: the provider rollups seeded as <see cref="EconomicsBench"/> seeds them, the platform rollups
/// generated from those by the database (what the run journal would have written), 20,000 sign-ups and 30,000 payments
/// spread over the year. Run: see docs/benchmarks.md.
/// </summary>
static class PlatformMetricsBench
{
    const int Users = 20_000;
    const int Payments = 30_000;
    static readonly string[] Plans = ["plus", "pro", "team"];

    public static async Task<int> RunAsync(string[] args)
    {
        var provider = args.ElementAtOrDefault(0) ?? "sqlite";
        var iterations = int.Parse(args.ElementAtOrDefault(1) ?? "100", CultureInfo.InvariantCulture);
        if (provider is not ("sqlite" or "postgres"))
        {
            Console.Error.WriteLine("usage: platform-metrics sqlite|postgres [iterations]");
            return 2;
        }
        await using var database = await BenchDatabase.CreateAsync("platform-metrics", provider == "postgres" ? BenchDatabase.Server : null);
        var settings = database.Apply(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "None",
        });
        await using var app = EconomicsBench.BuildHost(settings);
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await EconomicsBench.SeedAsync(app.Services, provider == "postgres");
        await SeedPlatformAsync(app.Services, provider == "postgres");
        Console.WriteLine($"{provider}: seeded in {clock.Elapsed.TotalSeconds:0.0} s");
        await database.AnalyzeAsync();

        foreach (var days in new[] { 30, 365 })
        {
            var measurements = new Measurements($"{provider} {days} days");
            for (var i = 0; i < Math.Max(5, iterations / 10); i++)
            {
                await ReportOnceAsync(app.Services, days); // warm-up: caches, plans, JIT
            }
            for (var i = 0; i < iterations; i++)
            {
                measurements.Add(await ReportOnceAsync(app.Services, days));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{measurements.Name,-32} n={measurements.Count,5}  p50={measurements.Percentile(50),7:0.00} ms  p95={measurements.Percentile(95),7:0.00} ms  p99={measurements.Percentile(99),7:0.00} ms"));
        }
        return 0;
    }

    static async Task<double> ReportOnceAsync(IServiceProvider services, int days)
    {
        // A scope per request, as the API and the page have.
        await using var scope = services.CreateAsyncScope();
        var metrics = ActivatorUtilities.CreateInstance<PlatformMetricsQueries>(scope.ServiceProvider);
        var clock = Stopwatch.StartNew();
        await metrics.ReportAsync(days, CancellationToken.None);
        return clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>
    /// The platform rollups as the run journal would have written them for the seeded provider rollups (their sums by day,
    /// by day and listing, by day and buyer organization), then users and payments through EF.
    /// </summary>
    static async Task SeedPlatformAsync(IServiceProvider services, bool postgres)
    {
        // A visitor's trial runs are rolled up under the empty organization id.
        var visitor = postgres ? "'00000000-0000-0000-0000-000000000000'::uuid" : "'00000000-0000-0000-0000-000000000000'";
        var perDay = $"""
            INSERT INTO platform_days (day, runs, succeeded, credits_spent, trial_credits, platform_fees, active_organizations)
            SELECT day, SUM(runs), SUM(succeeded), SUM(CASE WHEN buyer_organization_id <> {visitor} THEN gross_credits ELSE 0 END),
                   SUM(CASE WHEN buyer_organization_id = {visitor} THEN gross_credits ELSE 0 END), SUM(platform_fees),
                   COUNT(DISTINCT CASE WHEN buyer_organization_id <> {visitor} THEN buyer_organization_id END)
            FROM economics_days GROUP BY day
            """;
        var organizations = $"""
            INSERT INTO platform_organization_days (day, organization_id, runs)
            SELECT day, buyer_organization_id, SUM(runs) FROM economics_days WHERE buyer_organization_id <> {visitor} GROUP BY day, buyer_organization_id
            """;
        await EconomicsBench.ExecuteRawAsync(services, perDay, organizations, """
            INSERT INTO platform_listing_days (day, listing_id, provider_id, runs, succeeded, gross_credits)
            SELECT day, listing_id, provider_id, SUM(runs), SUM(succeeded), SUM(gross_credits) FROM economics_days GROUP BY day, listing_id, provider_id
            """);

        var now = DateTime.UtcNow;
        var random = new Random(8);
        await using (var scope = services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            var organization = await db.Organizations.Select(o => o.Id).FirstAsync();
            for (var i = 0; i < Users; i++)
            {
                db.Users.Add(new User { Email = $"bench-{i}@bench.example", Name = $"Bench user {i}", CreatedUtc = now.AddMinutes(-random.Next(365 * 24 * 60)) });
            }
            for (var i = 0; i < Payments; i++)
            {
                var plan = random.Next(3) == 0;
                db.Payments.Add(new Payment
                {
                    OrganizationId = organization,
                    Provider = PaymentProviderKind.Sandbox,
                    Purpose = plan ? PaymentPurpose.Renewal : PaymentPurpose.Package,
                    PlanCode = plan ? Plans[random.Next(Plans.Length)] : null,
                    AmountCents = plan ? 2_000 : 1_500,
                    Credits = plan ? 2_000 : 1_500,
                    Description = "Bench payment",
                    Status = PaymentStatus.Succeeded,
                    CreatedUtc = now.AddMinutes(-random.Next(365 * 24 * 60)),
                });
            }
            await db.SaveChangesAsync();
            await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.CompletedUtc, p => p.CreatedUtc));
        }
        await using var count = services.CreateAsyncScope();
        var check = count.ServiceProvider.GetRequiredService<AppDbContext>();
        var (runs, days, listingDays, organizationDays) = (await check.PlatformDays.SumAsync(d => d.Runs), await check.PlatformDays.CountAsync(),
            await check.PlatformListingDays.CountAsync(), await check.PlatformOrganizationDays.CountAsync());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"platform rollups: {runs:N0} runs in {days:N0} days, {listingDays:N0} listing-days, {organizationDays:N0} organization-days; {Users:N0} users, {Payments:N0} payments"));
    }
}
