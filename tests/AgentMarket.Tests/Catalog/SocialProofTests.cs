using System.Net.Http.Json;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Catalog;

/// <summary>Social proof comes from run records and reviews, as stored counters that follow runs and a job that repairs them.</summary>
public class SocialProofTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task FinishedRuns_UpdateTheCard_RunsSuccessRateAndRecentUsers()
    {
        var agent = await app.PublishedAgentAsync();
        var first = await app.SignUpAsync();
        var second = await app.SignUpAsync();

        await app.RecordRunAsync(agent.ListingId, first.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, first.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, second.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, second.OrganizationId, RunOutcome.Failed);

        var stats = (await app.CardAsync(agent)).GetProperty("stats");
        Assert.Equal(3, stats.GetProperty("runs").GetInt64());
        Assert.Equal(2, stats.GetProperty("users_30d").GetInt32());
        Assert.Equal(0.75, stats.GetProperty("success_rate").GetDouble());
        Assert.Equal(3, (await app.CardAsync(agent)).GetProperty("runs_count").GetInt64());

        var daily = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/stats/"));
        Assert.Equal(3, daily.GetProperty("runs").GetInt64());
        Assert.Equal(1, daily.GetProperty("failed_runs").GetInt64());
        var today = daily.GetProperty("daily").EnumerateArray().Last();
        Assert.Equal(DateOnly.FromDateTime(DateTime.UtcNow).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), today.GetProperty("day").GetString());
        Assert.Equal(3, today.GetProperty("completed_runs").GetInt32());
        Assert.Equal(1, today.GetProperty("failed_runs").GetInt32());
        Assert.Equal(2, today.GetProperty("customers").GetInt32());
        Assert.Equal(30, daily.GetProperty("daily").GetArrayLength());
    }

    [Fact]
    public async Task Repair_RecomputesDriftedCounters_FromTheRunRecords()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        var lapsed = await app.SignUpAsync();
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId, RunOutcome.Failed);
        // A customer whose only run is older than 30 days still counts as a run, but no longer as a recent user.
        await app.RecordRunAsync(agent.ListingId, lapsed.OrganizationId, finishedUtc: DateTime.UtcNow.AddDays(-40));

        await using (var scope = app.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await db.Listings.Where(l => l.Id == agent.ListingId).ExecuteUpdateAsync(s => s
                .SetProperty(l => l.RunsCount, 9_999).SetProperty(l => l.FailedRunsCount, 0).SetProperty(l => l.Users30d, 42)
                .SetProperty(l => l.ReviewsCount, 7).SetProperty(l => l.RatingTotal, 35));
            await db.ListingDailyStats.Where(s => s.ListingId == agent.ListingId).ExecuteDeleteAsync();
        }
        Assert.Equal(9_999, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());

        await app.RepairSocialProofAsync();

        var stats = (await app.CardAsync(agent)).GetProperty("stats");
        Assert.Equal(2, stats.GetProperty("runs").GetInt64());
        Assert.Equal(1, stats.GetProperty("users_30d").GetInt32());
        Assert.Equal(0.667, stats.GetProperty("success_rate").GetDouble());
        Assert.Equal(0, stats.GetProperty("reviews_count").GetInt32());
        var daily = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/stats/"));
        Assert.Equal(1, daily.GetProperty("daily").EnumerateArray().Last().GetProperty("completed_runs").GetInt32());

        // Repairing again changes nothing.
        await app.RepairSocialProofAsync();
        Assert.Equal(2, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());
    }

    [Fact]
    public async Task SellersStats_ShowTheRatingTheCardShows_RoundedHalfUp()
    {
        var agent = await app.PublishedAgentAsync();
        // 5 + 4 + 4 + 4 = 17 stars over 4 reviews: 4.25, exactly half way, where rounding to even and half up differ.
        foreach (var stars in new[] { 5, 4, 4, 4 })
        {
            var buyer = await app.SignUpAsync();
            await app.RecordCustomerRunAsync(buyer, agent.ListingId);
            await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = stars, text = "ok" }),
                System.Net.HttpStatusCode.Created);
        }

        var card = (await app.CardAsync(agent)).GetProperty("stats").GetProperty("rating").GetDouble();
        var stats = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/stats/"));
        Assert.Equal(card, stats.GetProperty("rating").GetDouble());
        Assert.Equal(4, stats.GetProperty("reviews_count").GetInt32());
    }

    [Fact]
    public async Task RunRecords_AreTenantOwned_ByTheBuyer()
    {
        var agent = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await app.RecordRunAsync(agent.ListingId, buyer.OrganizationId);

        await using var scope = app.Services.CreateAsyncScope();
        var tenant = scope.ServiceProvider.GetRequiredService<CurrentTenant>();
        tenant.Set(agent.Seller.OrganizationId, AgentMarket.Identity.MembershipRole.Owner);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        Assert.False(await db.RunRecords.AnyAsync(r => r.ListingId == agent.ListingId));
        tenant.Set(buyer.OrganizationId, AgentMarket.Identity.MembershipRole.Owner);
        Assert.True(await db.RunRecords.AnyAsync(r => r.ListingId == agent.ListingId));
    }
}
