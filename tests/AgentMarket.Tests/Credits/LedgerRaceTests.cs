using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Credits;

/// <summary>
/// Concurrency on the real database (SQLite here, PostgreSQL in test.sh's second run): many runs at once against a
/// wallet that can pay for only some of them, in one process and across two processes on the same database.
/// </summary>
public class LedgerRaceTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const int Price = 5;

    [Theory]
    [InlineData(64, 20)]
    [InlineData(64, 1)]
    [InlineData(64, 63)]
    public async Task ConcurrentReserveAndSettle_OnAWalletThatCanPayForN_SettlesExactlyN(int runs, int affordable)
    {
        var ledger = new LedgerDriver(app);
        var org = Guid.CreateVersion7();
        var provider = Guid.CreateVersion7();
        // Part granted, part paid, so runs draw on both wallets.
        await ledger.GrantAsync(org, 3, $"race-grant-{org}");
        await ledger.PurchaseAsync(org, affordable * Price - 3, $"race-purchase-{org}");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, runs).Select(i => Task.Run(() => RunOnceAsync(ledger, org, provider, i))));

        Assert.Equal(affordable, outcomes.Count(o => o == LedgerStatus.Ok));
        Assert.All(outcomes.Where(o => o != LedgerStatus.Ok), o => Assert.Equal(LedgerStatus.InsufficientCredits, o));
        var balance = await ledger.BalanceAsync(org);
        Assert.Equal((0L, 0L, 0L), (balance.Balance, balance.Available, balance.Reserved));
        var check = await ledger.CheckAsync();
        Assert.True(check.Ok, string.Join("; ", check.Mismatches));
    }

    [Fact]
    public async Task TwoProcesses_RacingOnOneWallet_NeverOverdrawIt()
    {
        await using var second = new AnotherProcess(app.Database);
        await second.InitializeAsync();
        var here = new LedgerDriver(app);
        var there = new LedgerDriver(second);
        var org = Guid.CreateVersion7();
        await here.PurchaseAsync(org, 30 * Price, $"two-process-{org}");

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 80).Select(i =>
            Task.Run(() => RunOnceAsync(i % 2 == 0 ? here : there, org, null, i))));

        Assert.Equal(30, outcomes.Count(o => o == LedgerStatus.Ok));
        Assert.Equal(0, (await here.BalanceAsync(org)).Balance);
        Assert.True((await here.CheckAsync()).Ok);
    }

    [Fact]
    public async Task ConcurrentReplaysOfOneKey_HaveOneEffect()
    {
        var ledger = new LedgerDriver(app);
        var org = Guid.CreateVersion7();
        var key = $"replayed-{org}";
        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(() => ledger.PurchaseAsync(org, 100, key))));
        Assert.All(results, r => Assert.Equal(LedgerStatus.Ok, r.Status));
        Assert.Single(results.Select(r => r.OperationId).Distinct());
        Assert.Equal(31, results.Count(r => r.Replayed));
        Assert.Equal(100, (await ledger.BalanceAsync(org)).Balance);
    }

    [Fact]
    public async Task SettleAndVoid_RacingForOneReservation_OnlyOneWins()
    {
        var ledger = new LedgerDriver(app);
        for (var round = 0; round < 20; round++)
        {
            var org = Guid.CreateVersion7();
            await ledger.PurchaseAsync(org, 50, $"sv-{org}");
            var reservation = (await ledger.ReserveAsync(org, 50, $"sv-reserve-{org}")).OperationId;
            var settle = Task.Run(() => ledger.SettleAsync(org, reservation, 30, null, $"sv-settle-{org}"));
            var expire = Task.Run(() => ledger.VoidAsync(org, reservation, $"void:{reservation}"));
            var results = await Task.WhenAll(settle, expire);
            Assert.Single(results, r => r.Status == LedgerStatus.Ok);
            Assert.Single(results, r => r.Status == LedgerStatus.ReservationResolved);
            var balance = await ledger.BalanceAsync(org);
            Assert.Equal(results[0].Succeeded ? 20 : 50, balance.Balance);
            Assert.Equal(0, balance.Reserved);
        }
        Assert.True((await ledger.CheckAsync()).Ok);
    }

    static async Task<LedgerStatus> RunOnceAsync(LedgerDriver ledger, Guid org, Guid? provider, int run)
    {
        var reserve = await ledger.ReserveAsync(org, Price, $"run:{org}:{run}:reserve");
        if (!reserve.Succeeded)
        {
            return reserve.Status;
        }
        var settle = await ledger.SettleAsync(org, reserve.OperationId, Price, provider, $"run:{org}:{run}:settle");
        return settle.Status;
    }
}
