using System.Net.Http.Json;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Economics;

/// <summary>
/// Thousands of random runs settled through the ledger and recorded through the run journal, as the gateway does, with
/// the commission and the granted-credit setting changing on the way: Σ provider + Σ platform = Σ spent, and each
/// provider's dashboard shows exactly its ledger earnings. (Thousands of HTTP runs through the flow engine would take
/// minutes; the money path after the engine is the same.)
/// </summary>
public class RevenueSplitTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const int Chunks = 60;
    const int RunsPerChunk = 50;

    sealed record Seller(TestUser User, Guid Provider, Guid Listing);

    sealed class Tally
    {
        public long Runs;
        public long Succeeded;
        public long Gross;
    }

    [Fact]
    public async Task RandomRuns_SplitExactly_AndDashboardsEqualTheLedger()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var sellers = new List<Seller>();
        for (var i = 0; i < 3; i++)
        {
            var agent = await app.PublishedAgentAsync();
            var provider = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
            sellers.Add(new Seller(agent.Seller, provider, agent.ListingId));
        }
        var buyers = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            buyers.Add((await app.SignUpAsync($"Buyer {i}")).OrganizationId);
        }
        var ledger = new LedgerDriver(app);
        var tallies = sellers.ToDictionary(s => s.Provider, _ => new Tally());
        var walletSpent = 0L;
        var trialPaid = 0L;
        var settleKeys = new List<string>();
        var trialKeys = new List<string>();
        var today = DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);

        for (var chunk = 0; chunk < Chunks; chunk++)
        {
            // The operator raises the commission half-way and changes how granted credits pay, chunk by chunk.
            var split = new RevenueSplit(chunk < Chunks / 2 ? 2_000 : 3_500, (chunk % 3) switch { 0 => 100, 1 => 50, _ => 0 });
            foreach (var buyer in buyers)
            {
                await ledger.GrantAsync(buyer, random.Next(1, 3_000), $"test-grant:{buyer}:{chunk}");
                await ledger.PurchaseAsync(buyer, random.Next(1, 3_000), $"test-purchase:{buyer}:{chunk}");
            }
            var plans = Enumerable.Range(0, RunsPerChunk).Select(_ => new
            {
                Seller = sellers[random.Next(sellers.Count)],
                Buyer = random.Next(10) == 0 ? Guid.Empty : buyers[random.Next(buyers.Count)], // a tenth are visitors' trials
                Max = (long)random.Next(1, 400),
                Fraction = random.NextDouble(),
                Fails = random.Next(12) == 0,
                Day = today.AddDays(-random.Next(5)),
            }).ToList();
            var results = await Task.WhenAll(plans.Select(async plan =>
            {
                var runId = Guid.CreateVersion7();
                var actual = (long)Math.Round(plan.Max * plan.Fraction);
                var succeeded = !plan.Fails;
                string? key = null;
                if (plan.Buyer == Guid.Empty)
                {
                    if (succeeded && actual > 0)
                    {
                        key = $"trial:{runId}";
                        var trial = await app.InScopeAsync(null, services => services.GetRequiredService<CreditLedger>()
                            .TrialAsync(key, plan.Seller.Provider, actual, split, "trial", runId.ToString(), default));
                        Assert.True(trial.Succeeded, $"seed {seed}: {trial.Status}");
                    }
                }
                else
                {
                    var reserve = await ledger.ReserveAsync(plan.Buyer, plan.Max, $"run:{runId}:reserve");
                    if (reserve.Status == LedgerStatus.InsufficientCredits)
                    {
                        return (Plan: plan, Recorded: false, Actual: 0L, Key: (string?)null, Succeeded: false);
                    }
                    Assert.True(reserve.Succeeded, $"seed {seed}: {reserve.Status}");
                    if (succeeded)
                    {
                        key = $"run:{runId}:settle";
                        var settle = await ledger.SettleAsync(plan.Buyer, reserve.OperationId, actual, plan.Seller.Provider, key, split);
                        Assert.True(settle.Succeeded, $"seed {seed}: {settle.Status}");
                    }
                    else
                    {
                        await ledger.VoidAsync(plan.Buyer, reserve.OperationId, $"run:{runId}:void");
                    }
                }
                await JournalAsync(runId, plan.Seller, plan.Buyer, plan.Day, succeeded, succeeded ? actual : 0);
                return (Plan: plan, Recorded: true, Actual: succeeded ? actual : 0, Key: key, Succeeded: succeeded);
            }));
            foreach (var r in results.Where(r => r.Recorded))
            {
                var tally = tallies[r.Plan.Seller.Provider];
                tally.Runs++;
                tally.Succeeded += r.Succeeded ? 1 : 0;
                tally.Gross += r.Actual;
                if (r.Key is { } key)
                {
                    (key.StartsWith("trial:", StringComparison.Ordinal) ? trialKeys : settleKeys).Add(key);
                }
                if (r.Plan.Buyer == Guid.Empty)
                {
                    trialPaid += r.Actual;
                }
                else
                {
                    walletSpent += r.Actual;
                }
            }
        }

        // The ledger: every settled credit went to the provider or the platform, whatever the commission was.
        var wallet = await MovedAsync(settleKeys);
        Assert.Equal(walletSpent, wallet.Spent);
        Assert.Equal(wallet.Spent, wallet.Provider + wallet.Platform);
        var trials = await MovedAsync(trialKeys);
        Assert.Equal(trialPaid, trials.Provider + trials.Fees);
        Assert.True((await ledger.CheckAsync()).Ok, $"seed {seed}: the ledger check fails");

        // The dashboards: each provider sees exactly its ledger earnings and the runs' worth.
        foreach (var seller in sellers)
        {
            var totals = (await Http.ReadJsonAsync(await seller.User.Client.GetAsync("/api/providers/mine/economics/"))).GetProperty("totals");
            var earnings = await ledger.EarningsAsync(seller.Provider);
            var tally = tallies[seller.Provider];
            Assert.Equal(earnings, totals.GetProperty("earnings_credits").GetInt64());
            Assert.Equal(tally.Gross, totals.GetProperty("gross_credits").GetInt64());
            Assert.Equal(tally.Gross - earnings, totals.GetProperty("commission_credits").GetInt64());
            Assert.Equal(tally.Runs, totals.GetProperty("runs").GetInt64());
            Assert.Equal(tally.Succeeded, totals.GetProperty("succeeded").GetInt64());
        }
        Assert.True(tallies.Values.Sum(t => t.Runs) >= Chunks * RunsPerChunk / 2, $"seed {seed}: most runs could be paid");
    }

    /// <summary>Records a finished run as the gateway's journal does after settling it.</summary>
    async Task JournalAsync(Guid runId, Seller seller, Guid buyer, DateOnly day, bool succeeded, long charged)
    {
        var started = day.ToDateTime(new TimeOnly(12, 0), DateTimeKind.Utc);
        var run = new AgentRun
        {
            Id = runId, OrganizationId = buyer, ListingId = seller.Listing, AgentVersionId = Guid.Empty, ProviderId = seller.Provider,
            SessionId = runId.ToString("N"), Door = "api", Status = succeeded ? AgentRunStatus.Succeeded : AgentRunStatus.Failed,
            InputTokens = 100, OutputTokens = 50, LatencyMs = 20 + (int)(runId.GetHashCode() & 0x3ff), CreditsCharged = charged,
            StartedUtc = started, FinishedUtc = started.AddSeconds(1), Day = day,
        };
        await app.Services.GetRequiredService<RunJournal>().RecordAsync(new JournalEntry(run, RecordExists: false, Counted: true), default);
    }

    sealed record Moved(long Spent, long Provider, long Platform, long Fees);

    /// <summary>What the operations with these keys moved: spent from wallets, to providers, and the platform's net (fees + granted credits returned − promotions paid out).</summary>
    async Task<Moved> MovedAsync(List<string> keys) => await app.InScopeAsync(null, async services =>
    {
        var db = services.GetRequiredService<AppDbContext>();
        var spent = 0L;
        var provider = 0L;
        var fees = 0L;
        var grants = 0L;
        var promotions = 0L;
        foreach (var batch in keys.Chunk(500))
        {
            var transfers = await (
                from o in db.LedgerOperations
                join t in db.LedgerTransfers on o.Id equals t.OperationId
                join debit in db.LedgerAccounts on t.DebitAccountId equals debit.Id
                join credit in db.LedgerAccounts on t.CreditAccountId equals credit.Id
                where batch.Contains(o.IdempotencyKey)
                select new { t.Kind, t.Amount, Debit = debit.Kind, Credit = credit.Kind }).ToListAsync();
            spent += transfers.Where(t => t.Kind == TransferKind.PostPending).Sum(t => t.Amount);
            provider += transfers.Where(t => t.Credit == AccountKind.ProviderEarnings).Sum(t => t.Amount);
            fees += transfers.Where(t => t.Credit == AccountKind.PlatformFees).Sum(t => t.Amount);
            grants += transfers.Where(t => t.Credit == AccountKind.Grants).Sum(t => t.Amount);
            promotions += transfers.Where(t => t.Debit == AccountKind.PlatformPromotions).Sum(t => t.Amount);
        }
        return new Moved(spent, provider, fees + grants - promotions, fees);
    });
}
