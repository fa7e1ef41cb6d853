using System.Net;
using System.Net.Http.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>Time-driven rules: daily grants at the day boundary, reservation expiry (also after a crash), renewals and downgrades.</summary>
public class CreditJobsTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    /// <summary>A user whose client uses a token: a month later, a browser session cookie (14 days) has expired.</summary>
    async Task<TestUser> LongLivedUserAsync()
    {
        var user = await app.SignUpAsync();
        return user with { Client = app.BearerClient(await user.CreateTokenAsync()) };
    }

    static Task RunJobsAsync(AgentMarketApp app) => app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);

    [Fact]
    public async Task ConcurrentBalanceReads_AcrossMidnight_GrantTheDailyCreditsOnce()
    {
        var user = await app.SignUpAsync();
        Assert.Equal(350, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        app.Clock.AdvanceToBeforeMidnight(TimeSpan.FromSeconds(1));
        Assert.Equal(350, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        app.Clock.Advance(TimeSpan.FromSeconds(2));

        var reads = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Task.Run(() => user.BalanceAsync())));
        Assert.All(reads, r => Assert.Equal(400, r.GetProperty("balance").GetInt64()));
        await RunJobsAsync(app);
        Assert.Equal(400, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var daily = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=daily"));
        Assert.Equal(2, daily.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ExpiredReservation_IsVoidedByTheJob_AndALateSettleIsRefused()
    {
        var ledger = new LedgerDriver(app);
        var org = Guid.CreateVersion7();
        await ledger.PurchaseAsync(org, 100, $"expiry-{org}");
        var reservation = await ledger.ReserveAsync(org, 80, $"expiry-reserve-{org}", app.Clock.GetUtcNow().UtcDateTime.AddMinutes(1));
        await RunJobsAsync(app);
        Assert.Equal(80, (await ledger.BalanceAsync(org)).Reserved);

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await RunJobsAsync(app);
        Assert.Equal((100L, 0L), ((await ledger.BalanceAsync(org)).Available, (await ledger.BalanceAsync(org)).Reserved));
        Assert.Equal(LedgerStatus.ReservationResolved, (await ledger.SettleAsync(org, reservation.OperationId, 80, null, $"late-{org}")).Status);
        Assert.Equal(0, (await ledger.CheckAsync()).ExpiredReservations);
    }

    [Fact]
    public async Task AProcessThatCrashesBetweenReserveAndSettle_LeavesTheWalletWhole_AfterTheNextProcessExpiresIt()
    {
        await using var database = TestDatabase.Create();
        var org = Guid.CreateVersion7();
        await using (var crashing = new AnotherProcess(database))
        {
            await crashing.InitializeAsync();
            var ledger = new LedgerDriver(crashing);
            await ledger.PurchaseAsync(org, 100, $"crash-{org}");
            Assert.True((await ledger.ReserveAsync(org, 70, $"crash-reserve-{org}")).Succeeded);
            // The process dies here: the host stops without the run settling.
        }
        await using var restarted = new AnotherProcess(database);
        await restarted.InitializeAsync();
        var after = new LedgerDriver(restarted);
        Assert.Equal(30, (await after.BalanceAsync(org)).Available);

        restarted.Clock.Advance(TimeSpan.FromMinutes(16));
        await RunJobsAsync(restarted);
        var balance = await after.BalanceAsync(org);
        Assert.Equal((100L, 100L, 0L), (balance.Balance, balance.Available, balance.Reserved));
        Assert.True((await after.CheckAsync()).Ok);
    }

    [Fact]
    public async Task MonthlyPlan_RenewsAtPeriodEnd_ChargingAndGrantingOncePerPeriod()
    {
        var user = await LongLivedUserAsync();
        await user.UpgradeAsync("plus");
        var start = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        app.Clock.Advance(TimeSpan.FromDays(32));
        await RunJobsAsync(app);
        await RunJobsAsync(app);

        // Plus has no daily credits: the only change is the renewal's 2,000.
        Assert.Equal(start + 2_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var payments = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"));
        Assert.Equal(2, payments.GetProperty("items").EnumerateArray().Count(p => p.GetProperty("status").GetString() == "succeeded"));
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.True(plan.GetProperty("current_period_end").GetDateTime() > app.Clock.GetUtcNow().UtcDateTime);
    }

    [Fact]
    public async Task ScheduledDowngradeToFree_AppliesAtPeriodEnd_WithoutACharge()
    {
        var user = await LongLivedUserAsync();
        await user.UpgradeAsync("pro");
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }), HttpStatusCode.OK);

        app.Clock.Advance(TimeSpan.FromDays(32));
        await RunJobsAsync(app);

        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal("free", plan.GetProperty("plan").GetString());
        var payments = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"));
        Assert.Equal(1, payments.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task YearlyPlan_GrantsItsCreditsEveryMonth_ButChargesOnce()
    {
        var user = await LongLivedUserAsync();
        var paid = await user.UpgradeAsync("pro", "yearly");
        Assert.Equal(7990 * 12, paid.GetProperty("amount_cents").GetInt64());
        var monthly = async () => (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=monthly"))).GetProperty("total").GetInt32();
        Assert.Equal(1, await monthly());

        app.Clock.Advance(TimeSpan.FromDays(31));
        await RunJobsAsync(app);
        await RunJobsAsync(app);
        Assert.Equal(2, await monthly());
        Assert.Equal(1, (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/"))).GetProperty("total").GetInt32());
    }

}
