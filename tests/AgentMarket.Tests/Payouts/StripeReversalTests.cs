using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Payments;

namespace AgentMarket.Tests.Payouts;

/// <summary>Connect transfer reversals delivered at once (ADR-145): the provider's earnings get back what Stripe took, once.</summary>
public class StripeReversalTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task ReversalEventsHandledAtOnce_ReturnWhatStripeTookBack_Once()
    {
        var provider = await app.ProviderAsync();
        var account = (await Http.ReadJsonAsync(await provider.Seller.Client.PostAsync("/api/stripe/connect/", null))).GetProperty("account").GetString();
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("account.updated", new Dictionary<string, object?>
        {
            ["id"] = account,
            ["object"] = "account",
            ["type"] = "express",
            ["payouts_enabled"] = true,
            ["capabilities"] = new Dictionary<string, string> { ["transfers"] = "active" },
        }));
        var earned = await app.EarnAsync(provider, 4_000);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var paid = (await (await app.OperatorAsync()).RunPayoutsAsync(period)).GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("provider").GetGuid() == provider.Provider);
        Assert.Equal("paid", paid.GetProperty("status").GetString());

        // Stripe reversed the transfer in steps, and the events of all of them arrive together (amount_reversed is cumulative).
        const int steps = 8;
        var events = Enumerable.Range(1, steps).Select(step => StripeWebhooks.Event("transfer.reversed", new Dictionary<string, object?>
        {
            ["id"] = paid.GetProperty("reference").GetString(),
            ["object"] = "transfer",
            ["amount"] = earned,
            ["amount_reversed"] = earned * step / steps,
            ["reversed"] = step == steps,
            ["metadata"] = new Dictionary<string, string> { ["payout_id"] = paid.GetProperty("uuid").GetGuid().ToString() },
        })).ToList();
        await Task.WhenAll(events.Select(e => Task.Run(() => StripeWebhooks.DeliverAsync(app, e))));

        var ledger = new LedgerDriver(app);
        Assert.Equal(earned, await ledger.EarningsAsync(provider.Provider));
        Assert.True((await ledger.CheckAsync()).Ok);
        var mine = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{paid.GetProperty("uuid").GetGuid()}/"));
        Assert.Equal("reversed", mine.GetProperty("status").GetString());
    }
}
