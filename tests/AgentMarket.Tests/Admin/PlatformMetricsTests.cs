using System.Net;
using System.Text.Json;
using AgentMarket.Gateway;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// GET /api/admin/platform-metrics/ and its page after real runs through the gateway and real (sandbox) payments: every
/// figure equals what the run records, payments and users say, though the report reads only the daily rollups.
/// </summary>
public class PlatformMetricsTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task PlatformMetrics_AreForOperatorsOnly_AndCheckTheirPeriod()
    {
        var user = await app.SignUpAsync();
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/admin/platform-metrics/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/admin/platform-metrics"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync("/api/admin/platform-metrics/"), HttpStatusCode.NotFound);

        var operatorClient = await app.OperatorAsync();
        foreach (var days in new[] { "0", "367", "abc", "-1", "1.5" })
        {
            await Http.AssertProblemAsync(await operatorClient.GetAsync($"/api/admin/platform-metrics/?days={days}"), HttpStatusCode.BadRequest, "validation_failed");
        }
        var week = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/platform-metrics/?days=7"));
        Assert.Equal(7, week.GetProperty("per_day").GetArrayLength());
    }

    [Fact]
    public async Task PlatformMetrics_EqualTheRunRecordsPaymentsAndSignUps()
    {
        app.Model.When("make the model fail", FakeReply.Fail(500));
        var dear = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 40 });
        var cheap = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 5 });
        var first = await app.SubscribedAsync(dear);
        var second = await app.SubscribedAsync(cheap);
        for (var i = 0; i < 3; i++)
        {
            await Http.AssertStatusAsync(await first.KeyClient.RunAsync(first.Config, $"question {i}"), HttpStatusCode.OK);
        }
        await first.KeyClient.RunAsync(first.Config, "make the model fail");
        for (var i = 0; i < 2; i++)
        {
            await Http.AssertStatusAsync(await second.KeyClient.RunAsync(second.Config, $"question {i}"), HttpStatusCode.OK);
        }
        await second.Buyer.UpgradeAsync("plus");

        var operatorClient = await app.OperatorAsync();
        var report = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/platform-metrics/?days=30"));
        var truth = await TruthAsync();
        var totals = report.GetProperty("totals");
        Assert.Equal(truth.Runs, totals.GetProperty("runs").GetInt64());
        Assert.Equal(truth.Succeeded, totals.GetProperty("succeeded").GetInt64());
        Assert.True(truth.Succeeded < truth.Runs, "one run failed");
        Assert.Equal(Math.Round((double)truth.Succeeded / truth.Runs, 3), totals.GetProperty("success_rate").GetDouble());
        Assert.Equal(truth.Charged, totals.GetProperty("credits_spent").GetInt64());
        Assert.Equal(truth.PaidCents, totals.GetProperty("gmv_usd_cents").GetInt64());
        Assert.True(truth.PaidCents > 0, "the upgrade was paid");
        Assert.Equal(truth.Users, totals.GetProperty("sign_ups").GetInt64());
        Assert.Equal(truth.ActiveToday, report.GetProperty("active_organizations").GetProperty("day_1").GetInt64());
        Assert.Equal(truth.ActiveToday, report.GetProperty("active_organizations").GetProperty("day_30").GetInt64());

        var perDay = report.GetProperty("per_day").EnumerateArray().ToList();
        Assert.Equal(30, perDay.Count);
        Assert.Equal(truth.Runs, perDay.Sum(d => d.GetProperty("runs").GetInt64()));
        Assert.Equal(truth.PaidCents, perDay.Sum(d => d.GetProperty("gmv_usd_cents").GetInt64()));
        Assert.Equal(truth.Users, perDay.Sum(d => d.GetProperty("sign_ups").GetInt64()));

        // The dear agent took the most credits, and its provider leads the providers.
        var topAgent = report.GetProperty("top_agents")[0];
        Assert.Equal((dear.ListingId, dear.Slug), (topAgent.GetProperty("listing").GetGuid(), topAgent.GetProperty("slug").GetString()));
        Assert.Equal(truth.RunsOf(dear.ListingId), topAgent.GetProperty("runs").GetInt64());
        Assert.Equal(dear.ProviderHandle, report.GetProperty("top_providers")[0].GetProperty("handle").GetString());
        var plus = report.GetProperty("revenue_by_plan").EnumerateArray().Single(r => r.GetProperty("plan").GetString() == "plus");
        Assert.Equal(truth.PaidCents, plus.GetProperty("usd_cents").GetInt64());

        // A day later one organization runs again: one active today, both in the last 7 days.
        app.Clock.Advance(TimeSpan.FromDays(1));
        await Http.AssertStatusAsync(await second.KeyClient.RunAsync(second.Config, "again"), HttpStatusCode.OK);
        var later = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/platform-metrics/"));
        var active = later.GetProperty("active_organizations");
        var now = await TruthAsync();
        Assert.Equal((now.ActiveToday, now.ActiveLast7), (active.GetProperty("day_1").GetInt64(), active.GetProperty("day_7").GetInt64()));
        Assert.True(now.ActiveToday < now.ActiveLast7, "only one of the organizations ran today");
        Assert.Equal(now.ActiveToday, later.GetProperty("per_day").EnumerateArray().Last().GetProperty("active_organizations").GetInt64());
        Assert.Equal(now.Runs, later.GetProperty("totals").GetProperty("runs").GetInt64());
    }

    [Fact]
    public async Task PlatformRollups_AreTheProviderRollupsSummed()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 7 }));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"), HttpStatusCode.OK);
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default); // the rollups are added after the answer (ADR-052)
        await app.InScopeAsync<bool>(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var providers = await db.EconomicsDays.GroupBy(d => d.Day)
                .Select(g => new { Day = g.Key, Runs = g.Sum(d => d.Runs), Succeeded = g.Sum(d => d.Succeeded), Fees = g.Sum(d => d.PlatformFees), Gross = g.Sum(d => d.GrossCredits) })
                .ToListAsync();
            var platform = await db.PlatformDays.ToListAsync();
            Assert.Equal(providers.Select(p => (p.Day, p.Runs, p.Succeeded, p.Fees, p.Gross)).Order(),
                platform.Select(p => (p.Day, p.Runs, p.Succeeded, p.PlatformFees, p.CreditsSpent + p.TrialCredits)).Order());
            var listings = await db.EconomicsDays.GroupBy(d => new { d.Day, d.ListingId }).Select(g => new { g.Key.Day, g.Key.ListingId, Runs = g.Sum(d => d.Runs) }).ToListAsync();
            Assert.Equal(listings.Select(l => (l.Day, l.ListingId, l.Runs)).Order(),
                (await db.PlatformListingDays.ToListAsync()).Select(l => (l.Day, l.ListingId, l.Runs)).Order());
            return true;
        });
    }

    [Fact]
    public async Task MetricsPage_DrawsTheChartsAsAccessibleSvg()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"), HttpStatusCode.OK);
        await subscribed.Buyer.UpgradeAsync("plus");
        var operatorClient = await app.OperatorAsync();
        var today = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/platform-metrics/?days=7"))).GetProperty("per_day").EnumerateArray().Last();
        var html = await operatorClient.HtmlAsync("/admin/platform-metrics?days=7");
        // Money is charted in dollars, as the cards show it, not in the cents it is counted in.
        var gmvChart = html[html.IndexOf("data-chart=\"gmv-per-day\"", StringComparison.Ordinal)..];
        gmvChart = gmvChart[..gmvChart.IndexOf("</figure>", StringComparison.Ordinal)];
        var todaysGmv = (today.GetProperty("gmv_usd_cents").GetInt64() / 100m).ToString("$#,0.00", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"<td class=\"num\">{todaysGmv}</td>", gmvChart, StringComparison.Ordinal);
        Assert.DoesNotContain("US cent", html, StringComparison.Ordinal);
        foreach (var chart in new[] { "gmv-per-day", "credits-per-day", "runs-per-day", "active-organizations-per-day", "sign-ups-per-day" })
        {
            Assert.Contains($"data-chart=\"{chart}\"", html, StringComparison.Ordinal);
            Assert.Contains($"aria-labelledby=\"{chart}-title {chart}-desc\"", html, StringComparison.Ordinal);
        }
        Assert.Contains("Runs per day", html, StringComparison.Ordinal);
        Assert.Contains(subscribed.Agent.Name, html, StringComparison.Ordinal);
        Assert.Contains("Last 7 days", html, StringComparison.Ordinal);
        // Revenue is listed under the plan's name, as buyers see it, not its code.
        var plusName = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Plans.Where(p => p.Code == "plus").Select(p => p.Name).SingleAsync());
        Assert.Contains($"<tr><td>{plusName}</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<tr><td>plus</td>", html, StringComparison.Ordinal);
        Assert.Contains("Choose 1 to", await operatorClient.HtmlAsync("/admin/platform-metrics?days=9999"), StringComparison.Ordinal);
    }

    sealed record Truth(long Runs, long Succeeded, long Charged, long PaidCents, long Users, long ActiveToday, long ActiveLast7, Dictionary<Guid, long> PerListing)
    {
        public long RunsOf(Guid listing) => PerListing.GetValueOrDefault(listing);
    }

    /// <summary>The figures straight from the records the rollups summarize.</summary>
    Task<Truth> TruthAsync() => app.InScopeAsync(null, async services =>
    {
        services.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = services.GetRequiredService<AppDbContext>();
        var today = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);
        var runs = await db.AgentRuns.AsNoTracking().Where(r => r.ProviderId != null && r.Status != AgentRunStatus.Running).ToListAsync();
        var payments = await db.Payments.AsNoTracking().Where(p => p.CompletedUtc != null && p.Status != PaymentStatus.Failed).ToListAsync();
        return new Truth(runs.Count, runs.Count(r => r.Status == AgentRunStatus.Succeeded), runs.Sum(r => r.CreditsCharged), payments.Sum(p => p.AmountCents),
            await db.Users.CountAsync(),
            runs.Where(r => r.Day == today).Select(r => r.OrganizationId).Distinct().Count(),
            runs.Where(r => r.Day > today.AddDays(-7)).Select(r => r.OrganizationId).Distinct().Count(),
            runs.GroupBy(r => r.ListingId).ToDictionary(g => g.Key, g => (long)g.Count()));
    });
}
