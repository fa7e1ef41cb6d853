using System.Net;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

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
    public async Task ARunLeftUnprojected_ByAStoppedProcess_IsCountedOnce_WhenAProcessStarts_WithTheMoneyTheLedgerMoved()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "counted from what the journal handed over"), HttpStatusCode.OK);
        var first = (await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"))).GetProperty("totals");
        Assert.True(first.GetProperty("gross_credits").GetInt64() > 0);

        // What a journal batch commits when the process stops before the projector adds it: the run, its payment and its
        // work item. The run costs what the first one did, so it must add the same money, read back from the ledger.
        await CommittedRunAsync(subscribed.Config, "left-behind", async (services, left, recorded) =>
        {
            var ledger = services.GetRequiredService<CreditLedger>();
            var reserve = await ledger.ReserveAsync($"run:{left.Id}:reserve", left.OrganizationId, recorded.CreditsReserved, DateTime.UtcNow.AddMinutes(5), "run", left.Id.ToString(), default);
            var split = services.GetRequiredService<IOptions<CreditsOptions>>().Value.Split;
            Assert.True((await ledger.SettleAsync($"run:{left.Id}:settle", left.OrganizationId, reserve.OperationId, recorded.CreditsCharged, left.ProviderId, split, "left behind", default)).Succeeded);
            left.CreditsReserved = recorded.CreditsReserved;
            left.CreditsCharged = recorded.CreditsCharged;
        });

        // A process starting again looks in the table first. (This process's projector reads the table every 5 s too, so
        // either may take it; exactly one does.)
        await ProjectedByAnotherProcessAsync(subscribed.Agent.ListingId);

        var totals = (await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"))).GetProperty("totals");
        Assert.Equal(2, totals.GetProperty("runs").GetInt64());
        foreach (var money in new[] { "gross_credits", "earnings_credits", "commission_credits", "promotional_credits" })
        {
            Assert.Equal(2 * first.GetProperty(money).GetInt64(), totals.GetProperty(money).GetInt64());
        }
        Assert.Equal(2, (await app.CardAsync(subscribed.Agent)).GetProperty("runs_count").GetInt64());
    }

    [Fact]
    public async Task ARunHandedOver_ThatATableReadProjectedFirst_IsCountedOnce()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "counted once"), HttpStatusCode.OK);
        // A second run as a journal commits it: recorded, listed in the table, and handed to a projector (of a process
        // whose projector has not started yet, so that a table read takes it first).
        var handedOver = await CommittedRunAsync(subscribed.Config, "handed-over");
        var holding = ActivatorUtilities.CreateInstance<RunProjector>(app.Services);
        holding.Journaled([new JournaledRun(handedOver, Payment: null)]);

        // A table read (another replica's, or this process's own) projects it first.
        await ProjectedByAnotherProcessAsync(subscribed.Agent.ListingId);
        // Then the projector holding it starts: the run is no longer listed, so it must leave it out.
        await holding.StartAsync(default);
        try
        {
            await holding.CaughtUpAsync(default);
        }
        finally
        {
            await holding.StopAsync(default);
        }

        var report = await Http.ReadJsonAsync(await subscribed.Agent.Seller.Client.GetAsync("/api/providers/mine/economics/"));
        Assert.Equal(2, report.GetProperty("totals").GetProperty("runs").GetInt64());
        Assert.Equal(2, (await app.CardAsync(subscribed.Agent)).GetProperty("runs_count").GetInt64());
    }

    /// <summary>
    /// A succeeded run of the subscription as a journal batch commits it: recorded and listed in the work table, its
    /// figures not added. <paramref name="pay"/> (given the run and the subscription's first recorded run) pays for it first.
    /// </summary>
    Task<AgentRun> CommittedRunAsync(Guid config, string session, Func<IServiceProvider, AgentRun, AgentRun, Task>? pay = null) =>
        app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var recorded = await db.AgentRuns.AsNoTracking().FirstAsync(r => r.ConfigId == config);
            var now = DateTime.UtcNow;
            var run = new AgentRun
            {
                OrganizationId = recorded.OrganizationId,
                ConfigId = recorded.ConfigId,
                ListingId = recorded.ListingId,
                AgentVersionId = recorded.AgentVersionId,
                ProviderId = recorded.ProviderId,
                SessionId = session,
                Door = "api",
                Status = AgentRunStatus.Succeeded,
                StartedUtc = now,
                FinishedUtc = now,
                Day = DateOnly.FromDateTime(now),
            };
            if (pay is not null)
            {
                await pay(services, run, recorded);
            }
            db.AgentRuns.Add(run);
            db.UnprojectedRuns.Add(new UnprojectedRun { RunId = run.Id });
            await db.SaveChangesAsync();
            return run;
        });

    /// <summary>A projector of another process (as after a restart, or on another replica) takes the listing's runs from the table.</summary>
    async Task ProjectedByAnotherProcessAsync(Guid listing)
    {
        var other = ActivatorUtilities.CreateInstance<RunProjector>(app.Services);
        await other.StartAsync(default);
        try
        {
            for (var waited = 0; await UnprojectedAsync(listing) > 0; waited += 50)
            {
                Assert.True(waited < 10_000, "the other process's projector did not take the runs listed in the table");
                await Task.Delay(50);
            }
        }
        finally
        {
            await other.StopAsync(default);
        }
    }

    Task<int> UnprojectedAsync(Guid listing) => app.InScopeAsync(null, services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        return db.UnprojectedRuns.CountAsync(u => db.AgentRuns.Any(r => r.Id == u.RunId && r.ListingId == listing));
    });
}
