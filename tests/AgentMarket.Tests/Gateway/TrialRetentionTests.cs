using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// The playground's per-day counts keep no reversible address and do not grow for ever (ADR-161). A fixture of its own:
/// these tests move the clock days ahead.
/// </summary>
public class TrialRetentionTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    GatewayOptions Settings => app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;

    [Fact]
    public async Task AnAddress_IsStoredUnderAKeyedHash_ThatNoPlainHashOfItFinds_AndStillLimitsItsTries()
    {
        var agent = await app.PromptAgentAsync(new { model = "free" });
        const string address = "203.0.113.61";
        using var script = ClientFrom(address);

        for (var n = 0; n < Settings.TrialRunsPerAddressPerDay; n++)
        {
            await Http.AssertStatusAsync(await TryAsync(script, agent), HttpStatusCode.OK);
        }
        await Http.AssertProblemAsync(await TryAsync(script, agent), HttpStatusCode.TooManyRequests, "trial_limit");

        // Anyone with the database could hash every IPv4 address and look each one up: none is stored so.
        var plain = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"address:{address}")));
        var usages = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().TrialUsages
            .Where(u => u.ListingId == agent.ListingId).Select(u => new { u.VisitorHash, u.Runs }).ToListAsync());
        Assert.DoesNotContain(usages, u => u.VisitorHash == plain);
        // The address's count is still there, under its keyed hash: the only one that took every run.
        Assert.Single(usages, u => u.Runs == Settings.TrialRunsPerAddressPerDay);
    }

    [Fact]
    public async Task ThePruner_DeletesCountsAndBudgetsPastTheRetention_AndKeepsToday()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = Settings.TrialMaxCreditsPerRun });
        using (var script = ClientFrom("198.51.100.61"))
        {
            await Http.AssertStatusAsync(await TryAsync(script, agent), HttpStatusCode.OK);
        }
        var first = await DaysAsync(agent);
        Assert.NotEmpty(first.Usages);
        Assert.NotEmpty(first.Promotions);

        app.Clock.Advance(TimeSpan.FromDays(TrialAllowance.RetentionDays + 1));
        using (var script = ClientFrom("198.51.100.62"))
        {
            await Http.AssertStatusAsync(await TryAsync(script, agent), HttpStatusCode.OK);
        }
        var today = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);

        await app.Services.GetRequiredService<TrialPruner>().PruneAsync(CancellationToken.None);

        var left = await DaysAsync(agent);
        Assert.NotEmpty(left.Usages);
        Assert.All(left.Usages, day => Assert.Equal(today, day));
        Assert.Equal([today], left.Promotions);
    }

    async Task<(List<DateOnly> Usages, List<DateOnly> Promotions)> DaysAsync(PublishedAgent agent) =>
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            return (await db.TrialUsages.Where(u => u.ListingId == agent.ListingId).Select(u => u.Day).ToListAsync(),
                await db.TrialPromotions.Where(p => p.ListingId == agent.ListingId).Select(p => p.Day).ToListAsync());
        });

    static Task<HttpResponseMessage> TryAsync(HttpClient client, PublishedAgent agent) =>
        client.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "hello" });

    /// <summary>A client from one address that keeps no cookies, as a script would.</summary>
    HttpClient ClientFrom(string address) =>
        new(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };
}
