using System.Globalization;
using System.Net;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Economics;

/// <summary>
/// Ranges over several months read whole months from the customer-months and the partial months at the edges from the
/// days: every figure must still equal the run records of exactly the range's days.
/// </summary>
public class LongRangeEconomicsTests(EconomicsApp app) : IClassFixture<EconomicsApp>
{
    static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    DateOnly Today => DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);

    [Fact]
    public async Task RangesAcrossMonths_CountCustomersOnce_AndSumExactlyTheirDays()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 7 });
        var first = await app.SubscribedAsync(agent);
        var second = await app.SubscribedAsync(agent);
        foreach (var buyer in new[] { first, second })
        {
            await new LedgerDriver(app).PurchaseAsync(buyer.Buyer.OrganizationId, 1_000, $"long-range:{buyer.Config}");
        }
        // The first buyer runs at the start and the end, the second in between, so the second is in a whole month of
        // the long ranges and the first in both edges (and, through its first day, in no whole month).
        var start = Today;
        await Http.AssertStatusAsync(await first.KeyClient.RunAsync(first.Config, "start"), HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromDays(40));
        var middle = Today;
        await Http.AssertStatusAsync(await second.KeyClient.RunAsync(second.Config, "middle"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await first.KeyClient.RunAsync(first.Config, "middle too"), HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromDays(40));
        var end = Today;
        for (var i = 0; i < 2; i++)
        {
            await Http.AssertStatusAsync(await first.KeyClient.RunAsync(first.Config, $"end {i}"), HttpStatusCode.OK);
        }

        var runs = await app.InScopeAsync(null, services =>
        {
            services.GetRequiredService<CurrentTenant>().EnterSystemScope();
            return services.GetRequiredService<AppDbContext>().AgentRuns.AsNoTracking().Where(r => r.ListingId == agent.ListingId)
                .Select(r => new { r.Day, r.OrganizationId, r.CreditsCharged }).ToListAsync();
        });
        var names = await app.InScopeAsync(null, services =>
        {
            services.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var ids = runs.Select(r => r.OrganizationId).Distinct().ToList();
            return services.GetRequiredService<AppDbContext>().Organizations.Where(o => ids.Contains(o.Id)).ToDictionaryAsync(o => o.Id, o => o.Name);
        });
        var seller = app.BearerClient(await agent.Seller.CreateTokenAsync()); // the months outlived the sign-in cookie
        var middleMonth = new DateOnly(middle.Year, middle.Month, 1);
        (DateOnly From, DateOnly To)[] ranges =
        [
            (start, end), (start.AddDays(1), end), (start, end.AddDays(-1)), (start.AddDays(1), end.AddDays(-1)),
            (middleMonth, middleMonth.AddMonths(1).AddDays(-1)), (middleMonth.AddDays(1), end), (start, middle), (middle.AddDays(1), end.AddDays(-1)),
        ];
        foreach (var (from, to) in ranges)
        {
            var report = await Http.ReadJsonAsync(await seller.GetAsync($"/api/providers/mine/economics/?from={Day(from)}&to={Day(to)}"));
            var inRange = runs.Where(r => r.Day >= from && r.Day <= to).ToList();
            var customers = inRange.GroupBy(r => r.OrganizationId)
                .Select(g => (Name: names[g.Key], Runs: (long)g.Count(), Gross: g.Sum(r => r.CreditsCharged)))
                .OrderByDescending(c => c.Gross).ThenByDescending(c => c.Runs).ToList();
            var totals = report.GetProperty("totals");
            var range = $"{Day(from)}..{Day(to)}";
            Assert.True(inRange.Sum(r => r.CreditsCharged) == totals.GetProperty("gross_credits").GetInt64(), range);
            Assert.True(inRange.Count == totals.GetProperty("runs").GetInt64(), range);
            Assert.True(customers.Count == totals.GetProperty("unique_customers").GetInt32(), range);
            var top = report.GetProperty("top_customers").EnumerateArray()
                .Select(c => (Name: c.GetProperty("organization_name").GetString()!, Runs: c.GetProperty("runs").GetInt64(), Gross: c.GetProperty("gross_credits").GetInt64()))
                .ToList();
            Assert.Equal(customers, top);
        }
    }
}
