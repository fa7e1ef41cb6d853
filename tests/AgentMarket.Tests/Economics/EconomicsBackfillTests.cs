using System.Data.Common;
using System.Globalization;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AgentMarket.Tests.Economics;

/// <summary>
/// An upgraded database: 0018 must fill the listing-days, customer-months and provider latency histogram from the
/// rollups the database already holds, so the dashboard reads the same figures before and after the upgrade.
/// </summary>
public class EconomicsBackfillTests
{
    static readonly int[] LatencyBuckets = [300, 1_100];

    sealed record Day(Guid Provider, DateOnly Date, Guid Listing, Guid Buyer, long Runs, long Gross, long Earnings, long Tokens);

    [Fact]
    public async Task Script0018_BackfillsTheNewRollups_FromTheExistingOnes()
    {
        await using var database = TestDatabase.Create();
        var postgres = database.Provider == "Postgres";
        var folder = Path.Combine(Repo.Root, "src", "AgentMarket", "Platform", "Data", "Migrations", postgres ? "Postgres" : "Sqlite");
        var scripts = Directory.GetFiles(folder, "*.sql").Order(StringComparer.Ordinal).ToList();
        await using DbConnection connection = postgres ? new NpgsqlConnection(database.ConnectionString) : new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        foreach (var script in scripts.Where(s => string.CompareOrdinal(Path.GetFileName(s), "0018") < 0))
        {
            await ExecuteAsync(connection, await File.ReadAllTextAsync(script));
        }

        // Rollups written before the upgrade: two providers, their agents, customers and visitors over a month's end.
        var random = new Random(18);
        var providers = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var listings = providers.ToDictionary(p => p, _ => new[] { Guid.NewGuid(), Guid.NewGuid() });
        Guid[] buyers = [Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.Empty];
        var first = new DateOnly(2026, 1, 29);
        var days = (
            from provider in providers
            from listing in listings[provider]
            from offset in Enumerable.Range(0, 6)
            from buyer in buyers
            where random.Next(3) > 0
            select new Day(provider, first.AddDays(offset), listing, buyer, random.Next(1, 9), random.Next(0, 500), random.Next(0, 400), random.Next(0, 9_000))).ToList();
        var latencies = days.GroupBy(d => (d.Provider, d.Date, d.Listing))
            .SelectMany(g => LatencyBuckets.Select(ms => (g.Key.Provider, g.Key.Date, g.Key.Listing, Ms: ms, Runs: (long)random.Next(1, 5)))).ToList();
        foreach (var d in days)
        {
            await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture, $"""
                INSERT INTO economics_days (provider_id, day, listing_id, buyer_organization_id, runs, succeeded, gross_credits, promotional_credits,
                    provider_earnings, platform_fees, input_tokens, output_tokens, model_cost_microcredits, latency_ms_sum)
                VALUES ({Id(d.Provider, postgres)}, {Date(d.Date, postgres)}, {Id(d.Listing, postgres)}, {Id(d.Buyer, postgres)}, {d.Runs}, {d.Runs - 1},
                    {d.Gross}, {d.Gross / 3}, {d.Earnings}, {d.Gross - d.Earnings}, {d.Tokens}, {d.Tokens / 2}, {d.Tokens * 7}, {d.Runs * 450})
                """));
        }
        foreach (var l in latencies)
        {
            await ExecuteAsync(connection, string.Create(CultureInfo.InvariantCulture,
                $"INSERT INTO economics_latencies (provider_id, day, listing_id, latency_ms, runs) VALUES ({Id(l.Provider, postgres)}, {Date(l.Date, postgres)}, {Id(l.Listing, postgres)}, {l.Ms}, {l.Runs})"));
        }

        await ExecuteAsync(connection, await File.ReadAllTextAsync(scripts.Single(s => Path.GetFileName(s).StartsWith("0018", StringComparison.Ordinal))));

        var options = new DbContextOptionsBuilder<AppDbContext>();
        if (postgres)
        {
            options.UseNpgsql(database.ConnectionString);
        }
        else
        {
            options.UseSqlite(database.ConnectionString);
        }
        await using var db = new AppDbContext(options.Options, new CurrentTenant());
        // The columns 0018 made, projected in SQL: the model has columns later scripts add.
        var listingDays = (await db.EconomicsListingDays.Select(l => new
        {
            l.ProviderId,
            l.Day,
            l.ListingId,
            l.Runs,
            l.Succeeded,
            l.GrossCredits,
            l.PromotionalCredits,
            l.ProviderEarnings,
            l.PlatformFees,
            l.InputTokens,
            l.OutputTokens,
            l.ModelCostMicrocredits,
            l.LatencyMsSum,
        }).ToListAsync())
            .Select(l => (l.ProviderId, l.Day, l.ListingId, l.Runs, l.Succeeded, l.GrossCredits, l.PromotionalCredits, l.ProviderEarnings, l.PlatformFees,
                l.InputTokens, l.OutputTokens, l.ModelCostMicrocredits, l.LatencyMsSum))
            .Order().ToList();
        Assert.Equal(
            days.GroupBy(d => (d.Provider, d.Date, d.Listing)).Select(g => (g.Key.Provider, g.Key.Date, g.Key.Listing, g.Sum(d => d.Runs), g.Sum(d => d.Runs - 1),
                g.Sum(d => d.Gross), g.Sum(d => d.Gross / 3), g.Sum(d => d.Earnings), g.Sum(d => d.Gross - d.Earnings), g.Sum(d => d.Tokens), g.Sum(d => d.Tokens / 2),
                g.Sum(d => d.Tokens * 7), g.Sum(d => d.Runs * 450))).Order().ToList(),
            listingDays);
        var customerMonths = (await db.EconomicsCustomerMonths.ToListAsync())
            .Select(c => (c.ProviderId, c.Month, c.BuyerOrganizationId, c.Runs, c.GrossCredits)).Order().ToList();
        Assert.Equal(
            days.Where(d => d.Buyer != Guid.Empty).GroupBy(d => (d.Provider, Month: new DateOnly(d.Date.Year, d.Date.Month, 1), d.Buyer))
                .Select(g => (g.Key.Provider, g.Key.Month, g.Key.Buyer, g.Sum(d => d.Runs), g.Sum(d => d.Gross))).Order().ToList(),
            customerMonths);
        Assert.Equal(2, customerMonths.Select(c => c.Month).Distinct().Count());
        var latencyDays = (await db.EconomicsLatencies.ToListAsync()).Select(l => (l.ProviderId, l.Day, l.LatencyMs, l.Runs)).Order().ToList();
        Assert.Equal(
            latencies.GroupBy(l => (l.Provider, l.Date, l.Ms)).Select(g => (g.Key.Provider, g.Key.Date, g.Key.Ms, g.Sum(l => l.Runs))).Order().ToList(),
            latencyDays);
    }

    // SQLite holds EF's Guids as upper-case text and dates as ISO text; PostgreSQL has uuid and date.
    static string Id(Guid id, bool postgres) => postgres ? $"'{id}'::uuid" : $"'{id.ToString().ToUpperInvariant()}'";

    static string Date(DateOnly day, bool postgres) => string.Create(CultureInfo.InvariantCulture, $"'{day:yyyy-MM-dd}'{(postgres ? "::date" : "")}");

    static async Task ExecuteAsync(DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
