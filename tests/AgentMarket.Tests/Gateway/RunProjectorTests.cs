using System.Net;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// The figures derived from runs — social proof, the provider's economics — are added after the run's answer, from the
/// work list the journal writes with the run: each run is counted exactly once, and a report read after the runs sees
/// them (ADR-052).
/// </summary>
public class RunProjectorTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task RunsThroughTheGateway_AreInTheFigures_WhenTheirProviderReadsThem_AndCountedOnce()
    {
        var subscribed = await app.SubscribedAsync();
        for (var i = 0; i < 3; i++)
        {
            await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"question {i}"), HttpStatusCode.OK);
        }

        var report = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));
        Assert.Equal(3, report.GetProperty("totals").GetProperty("runs").GetInt64());
        // Social proof is written in the same transaction as the economics the report waited for.
        Assert.Equal(3, (await app.CardAsync(subscribed.Agent)).GetProperty("runs_count").GetInt64());
        Assert.Equal(0, await UnprojectedAsync(subscribed.Agent.ListingId));
    }

    [Fact]
    public async Task ARunLeftUnprojected_AsAStoppedProcessLeavesIt_IsCountedOnce()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "counted by the journal's signal"), HttpStatusCode.OK);

        // What a journal batch commits when the process stops before the projector adds it: the run and its work item.
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var recorded = await db.AgentRuns.AsNoTracking().FirstAsync(r => r.ConfigId == subscribed.Config);
            var now = DateTime.UtcNow;
            var left = new AgentRun
            {
                OrganizationId = recorded.OrganizationId, ConfigId = recorded.ConfigId, ListingId = recorded.ListingId, AgentVersionId = recorded.AgentVersionId,
                ProviderId = recorded.ProviderId, SessionId = "left-behind", Door = "api", Status = AgentRunStatus.Succeeded,
                StartedUtc = now, FinishedUtc = now, Day = DateOnly.FromDateTime(now),
            };
            db.AgentRuns.Add(left);
            db.UnprojectedRuns.Add(new UnprojectedRun { RunId = left.Id });
            await db.SaveChangesAsync();
            return true;
        });
        var projector = app.Services.GetRequiredService<RunProjector>();
        projector.Journaled();
        projector.Journaled();

        var report = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));
        Assert.Equal(2, report.GetProperty("totals").GetProperty("runs").GetInt64());
        Assert.Equal(2, (await app.CardAsync(subscribed.Agent)).GetProperty("runs_count").GetInt64());
        Assert.Equal(0, await UnprojectedAsync(subscribed.Agent.ListingId));
    }

    Task<int> UnprojectedAsync(Guid listing) => app.InScopeAsync(null, services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        return db.UnprojectedRuns.CountAsync(u => db.AgentRuns.Any(r => r.Id == u.RunId && r.ListingId == listing));
    });
}
