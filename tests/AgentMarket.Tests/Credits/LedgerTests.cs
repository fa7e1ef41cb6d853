using AgentMarket.Credits.Ledger;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Credits;

/// <summary>The ledger's rules, one at a time, against the real database (SQLite, or PostgreSQL in test.sh's second run).</summary>
public class LedgerTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    readonly LedgerDriver _ledger = new(app);

    static string Key() => Guid.NewGuid().ToString("N");

    [Fact]
    public async Task Reserve_TakesGrantedFirst_Settle_PostsActual_ReleasesTheRest_AndSplitsTheFee()
    {
        var org = Guid.CreateVersion7();
        var provider = Guid.CreateVersion7();
        await _ledger.GrantAsync(org, 30, Key());
        await _ledger.PurchaseAsync(org, 100, Key());

        var reserve = await _ledger.ReserveAsync(org, 50, Key());
        Assert.Equal(LedgerStatus.Ok, reserve.Status);
        var during = await _ledger.BalanceAsync(org);
        Assert.Equal((130L, 80L, 50L), (during.Balance, during.Available, during.Reserved));

        // 40 actual: 30 granted (all of it) + 10 paid; the other 10 return to paid.
        var settle = await _ledger.SettleAsync(org, reserve.OperationId, 40, provider, Key());
        Assert.Equal(LedgerStatus.Ok, settle.Status);
        Assert.Equal(-40, settle.Amount);
        Assert.Equal(90, settle.BalanceAfter);
        var after = await _ledger.BalanceAsync(org);
        Assert.Equal((90L, 90L, 0L, 0L, 90L), (after.Balance, after.Available, after.Reserved, after.Granted, after.Paid));

        // Paid 10 → fee 2, provider 8; granted 30 → back to grants, provider paid 24 (30 − 20%) from promotions.
        Assert.Equal(8 + 24, await _ledger.EarningsAsync(provider));
        Assert.True((await _ledger.CheckAsync()).Ok);
    }

    [Fact]
    public async Task Reserve_MoreThanAvailable_IsRefused_WithRequiredAndAvailable_AndChangesNothing()
    {
        var org = Guid.CreateVersion7();
        await _ledger.GrantAsync(org, 20, Key());
        var result = await _ledger.ReserveAsync(org, 21, Key());
        Assert.Equal(LedgerStatus.InsufficientCredits, result.Status);
        Assert.Equal((21L, 20L), (result.Required, result.Available));
        Assert.Equal(20, (await _ledger.BalanceAsync(org)).Available);
    }

    [Fact]
    public async Task Void_ReturnsEverything_AndASettleAfterItIsRefused()
    {
        var org = Guid.CreateVersion7();
        await _ledger.PurchaseAsync(org, 100, Key());
        var reserve = await _ledger.ReserveAsync(org, 60, Key());
        Assert.Equal(LedgerStatus.Ok, (await _ledger.VoidAsync(org, reserve.OperationId, Key())).Status);
        Assert.Equal(100, (await _ledger.BalanceAsync(org)).Available);
        Assert.Equal(LedgerStatus.ReservationResolved, (await _ledger.SettleAsync(org, reserve.OperationId, 10, null, Key())).Status);
        Assert.Equal(LedgerStatus.ReservationResolved, (await _ledger.VoidAsync(org, reserve.OperationId, Key())).Status);
    }

    [Fact]
    public async Task Settle_MoreThanReserved_OrForAnotherOrganization_IsRefused()
    {
        var org = Guid.CreateVersion7();
        var other = Guid.CreateVersion7();
        await _ledger.PurchaseAsync(org, 100, Key());
        await _ledger.PurchaseAsync(other, 100, Key());
        var reserve = await _ledger.ReserveAsync(org, 10, Key());
        Assert.Equal(LedgerStatus.ExceedsReservation, (await _ledger.SettleAsync(org, reserve.OperationId, 11, null, Key())).Status);
        Assert.Equal(LedgerStatus.ReservationNotFound, (await _ledger.SettleAsync(other, reserve.OperationId, 5, null, Key())).Status);
        Assert.Equal(LedgerStatus.ReservationNotFound, (await _ledger.VoidAsync(other, reserve.OperationId, Key())).Status);
        Assert.Equal(LedgerStatus.Ok, (await _ledger.SettleAsync(org, reserve.OperationId, 10, null, Key())).Status);
        Assert.Equal(100, (await _ledger.BalanceAsync(other)).Balance);
    }

    [Fact]
    public async Task SettlingOrVoidingAnOperationThatIsNotAReservation_IsRefused_AndMovesNothing()
    {
        var org = Guid.CreateVersion7();
        var purchase = await _ledger.PurchaseAsync(org, 100, Key());
        var grant = await _ledger.GrantAsync(org, 50, Key());
        foreach (var operation in new[] { purchase.OperationId, grant.OperationId })
        {
            Assert.Equal(LedgerStatus.ReservationNotFound, (await _ledger.SettleAsync(org, operation, 0, null, Key())).Status);
            Assert.Equal(LedgerStatus.ReservationNotFound, (await _ledger.VoidAsync(org, operation, Key())).Status);
        }
        Assert.Equal(150, (await _ledger.BalanceAsync(org)).Available);
    }

    [Fact]
    public async Task ReplayingAKey_ReturnsTheOriginalResult_AndReusingItDifferently_IsAConflict()
    {
        var org = Guid.CreateVersion7();
        var key = Key();
        var first = await _ledger.PurchaseAsync(org, 100, key);
        var replay = await _ledger.PurchaseAsync(org, 100, key);
        Assert.True(replay.Replayed);
        Assert.Equal(first.OperationId, replay.OperationId);
        Assert.Equal(first.BalanceAfter, replay.BalanceAfter);
        Assert.Equal(LedgerStatus.IdempotencyConflict, (await _ledger.PurchaseAsync(org, 101, key)).Status);
        Assert.Equal(100, (await _ledger.BalanceAsync(org)).Balance);

        var reserveKey = Key();
        var reserve = await _ledger.ReserveAsync(org, 40, reserveKey);
        var reserveReplay = await _ledger.ReserveAsync(org, 40, reserveKey);
        Assert.Equal(reserve.OperationId, reserveReplay.OperationId);
        Assert.Equal(40, (await _ledger.BalanceAsync(org)).Reserved);
    }

    [Fact]
    public async Task Refund_ClawsBackWhatIsLeft_AndRecordsTheRestAsDebt_ThatTheNextPurchaseRepays()
    {
        var org = Guid.CreateVersion7();
        await _ledger.PurchaseAsync(org, 100, Key());
        var run = await _ledger.ReserveAsync(org, 70, Key());
        await _ledger.SettleAsync(org, run.OperationId, 70, null, Key());

        var refund = await _ledger.RefundAsync(org, 100, Key());
        Assert.Equal(-30, refund.Amount);
        var afterRefund = await _ledger.BalanceAsync(org);
        Assert.Equal((0L, 70L), (afterRefund.Balance, afterRefund.Debt));

        var purchase = await _ledger.PurchaseAsync(org, 100, Key());
        Assert.Equal(30, purchase.Amount);
        var afterPurchase = await _ledger.BalanceAsync(org);
        Assert.Equal((30L, 0L), (afterPurchase.Balance, afterPurchase.Debt));
        Assert.True((await _ledger.CheckAsync()).Ok);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 0)]
    [InlineData(3, 1)]
    [InlineData(7, 1)]
    [InlineData(8, 2)]
    [InlineData(1_000_003, 200_001)]
    public void Fee_IsTwentyPercent_RoundedHalfUp_AndTheProviderGetsExactlyTheRest(long credits, long fee)
    {
        Assert.Equal(fee, LedgerDriver.DefaultSplit.Fee(credits));
    }

    [Fact]
    public async Task ZeroOrNegativeAmounts_AreRefused()
    {
        var org = Guid.CreateVersion7();
        Assert.Equal(LedgerStatus.InvalidAmount, (await _ledger.GrantAsync(org, 0, Key())).Status);
        Assert.Equal(LedgerStatus.InvalidAmount, (await _ledger.PurchaseAsync(org, -5, Key())).Status);
        Assert.Equal(LedgerStatus.InvalidAmount, (await _ledger.ReserveAsync(org, 0, Key())).Status);
    }
}
