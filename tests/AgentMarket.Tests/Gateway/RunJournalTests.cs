using AgentMarket.Catalog.SocialProof;
using AgentMarket.Credits;
using AgentMarket.Credits.Ledger;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Runtime;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// The run journal settles a run in the transaction that records it, and a run's session memory waits for that
/// transaction: what the record says was charged is what the ledger moved, and the run reads its own messages before
/// they are written.
/// </summary>
public class RunJournalTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task ASettleWhoseReservationTheExpiryJobVoided_RecordsTheRunAsChargingNothing()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 7 }));
        var organization = subscribed.Buyer.OrganizationId;
        var runId = Guid.CreateVersion7();
        var (before, reservation) = await app.InScopeAsync(null, async services =>
        {
            var ledger = services.GetRequiredService<CreditLedger>();
            var balance = await ledger.BalanceAsync(organization, default);
            var reserve = await ledger.ReserveAsync($"run:{runId}:reserve", organization, 7, DateTime.UtcNow.AddMinutes(1), "run", runId.ToString(), default);
            Assert.True(reserve.Succeeded);
            // The expiry job's void, as for a run that outlived its reservation.
            Assert.True((await ledger.VoidAsync($"void:{reserve.OperationId}", organization, reserve.OperationId, default)).Succeeded);
            return (balance, reserve.OperationId);
        });

        var run = await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var config = await db.CustomerAgentConfigs.Include(c => c.Listing).SingleAsync(c => c.Id == subscribed.Config);
            var now = DateTime.UtcNow;
            return new AgentRun
            {
                Id = runId, OrganizationId = organization, ConfigId = config.Id, ListingId = config.ListingId, AgentVersionId = Guid.Empty,
                ProviderId = config.Listing!.ProviderId, SessionId = "late-session", Door = "api", Status = AgentRunStatus.Succeeded,
                CreditsReserved = 7, CreditsCharged = 7, StartedUtc = now, FinishedUtc = now, Day = DateOnly.FromDateTime(now),
            };
        });
        var split = app.Services.GetRequiredService<IOptions<CreditsOptions>>().Value.Split;
        var settle = new SettleCommand($"run:{runId}:settle", organization, reservation, 7, run.ProviderId, split, "late run");
        var paid = await app.Services.GetRequiredService<RunJournal>().RecordAsync(
            new JournalEntry(run, RecordExists: false, Counted: true) { Payment = settle },
            default);

        Assert.Equal(LedgerStatus.ReservationResolved, paid!.Status);
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            Assert.Equal(0, await db.AgentRuns.Where(r => r.Id == runId).Select(r => r.CreditsCharged).SingleAsync());
            Assert.Equal(0, await db.ChatSessions.Where(s => s.ConfigId == subscribed.Config && s.SessionId == "late-session").Select(s => s.CreditsSpent).SingleAsync());
            Assert.Equal(before.Balance, (await services.GetRequiredService<CreditLedger>().BalanceAsync(organization, default)).Balance);
            Assert.True((await services.GetRequiredService<LedgerCheck>().RunAsync(default)).Ok);
            return true;
        });
    }

    [Fact]
    public async Task ARunsOwnMessages_AreReadBeforeTheyAreWritten_AndOnlyTheJournalWritesThem()
    {
        var subscribed = await app.SubscribedAsync();
        var organization = subscribed.Buyer.OrganizationId;
        var session = $"s-{Guid.NewGuid():N}";
        await app.InScopeAsync(organization, async services =>
        {
            var contexts = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
            var stored = new DatabaseMessageStore(contexts, organization, subscribed.Config, TimeProvider.System);
            await stored.SaveAsync(Said("earlier question", "User", "User", session), "earlier-run", default);

            var memory = new JournaledMessageStore(stored);
            var question = await memory.SaveAsync(Said("my question", "User", "User", session), "this-run", default);
            var answer = await memory.SaveAsync(Said("partial", "Machine", "AI", session), "this-run", default);
            await memory.SaveAsync(answer with { Text = "my answer" }, "this-run", default);

            var all = await memory.GetAsync(new MessageQuery(session), default);
            Assert.Equal(["earlier question", "my question", "my answer"], all.Select(m => m.Text));
            var lastTwo = await memory.GetAsync(new MessageQuery(session, Limit: 2, Descending: true), default);
            Assert.Equal(["my answer", "my question"], lastTwo.Select(m => m.Text));
            var beforeThisRun = await memory.GetAsync(new MessageQuery(session, ExcludeRunId: "this-run"), default);
            Assert.Equal(["earlier question"], beforeThisRun.Select(m => m.Text));

            // Nothing of this run is stored until the journal records it; the re-save replaced the partial answer.
            Assert.Equal(["earlier question"], (await stored.GetAsync(new MessageQuery(session), default)).Select(m => m.Text));
            Assert.Equal([question.Id, answer.Id], memory.Pending.Select(m => m.MessageId));
            Assert.Equal(["my question", "my answer"], memory.Pending.Select(m => m.Text));
            return true;
        });
    }

    static Message Said(string text, string sender, string senderName, string session) =>
        new() { Text = text, Sender = sender, SenderName = senderName, SessionId = session };
}
