using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Payments;

namespace AgentMarket.Tests.Payouts;

/// <summary>Stripe Connect against the fake Stripe on loopback: onboarding, a payout's transfer once the account is enabled, and the transfer's webhooks.</summary>
public class StripeConnectTests(StripeApp app) : IClassFixture<StripeApp>
{
    static Dictionary<string, object?> Account(string id, string transfers) => new Dictionary<string, object?>
    {
        ["id"] = id,
        ["object"] = "account",
        ["type"] = "express",
        ["payouts_enabled"] = transfers == "active",
        ["charges_enabled"] = false,
        ["details_submitted"] = transfers == "active",
        ["capabilities"] = new Dictionary<string, string> { ["transfers"] = transfers },
    };

    [Fact]
    public async Task Connect_Onboards_ThenThePayoutIsTransferredOnce_AndAReversalReturnsTheEarningsOnce()
    {
        var provider = await app.ProviderAsync();
        var connected = await Http.ReadJsonAsync(await provider.Seller.Client.PostAsync("/api/stripe/connect/", null));
        var account = connected.GetProperty("account").GetString()!;
        Assert.StartsWith("acct_", account, StringComparison.Ordinal);
        Assert.StartsWith("https://connect.stripe.com/", connected.GetProperty("onboarding_url").GetString(), StringComparison.Ordinal);
        Assert.False(connected.GetProperty("transfers_enabled").GetBoolean());
        var again = await Http.ReadJsonAsync(await provider.Seller.Client.PostAsync("/api/stripe/connect/", null));
        Assert.Equal(account, again.GetProperty("account").GetString());
        var created = Assert.Single(app.Stripe.Requests, r => r.Path == "/v1/accounts");
        Assert.Equal("express", created.Form["type"]);
        Assert.Equal(provider.Seller.Email, created.Form["email"]);
        Assert.Equal($"connect-account:{provider.Provider}", created.IdempotencyKey);

        var earned = await app.EarnAsync(provider, 3_000);
        var period = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        var operatorClient = await app.OperatorAsync();
        var payout = (await operatorClient.RunPayoutsAsync(period)).GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("provider").GetGuid() == provider.Provider);
        Assert.Equal("stripe_connect", payout.GetProperty("method").GetString());
        Assert.Equal("pending", payout.GetProperty("status").GetString());
        Assert.Empty(app.Stripe.Transfers()); // the account cannot receive transfers yet

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("account.updated", Account(account, "active")));
        var paid = (await operatorClient.RunPayoutsAsync(period)).GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("provider").GetGuid() == provider.Provider);
        await operatorClient.RunPayoutsAsync(period);

        Assert.Equal("paid", paid.GetProperty("status").GetString());
        var transfer = Assert.Single(app.Stripe.Transfers());
        Assert.Equal(1, app.Stripe.DistinctTransfers);
        Assert.Equal(earned.ToString(System.Globalization.CultureInfo.InvariantCulture), transfer.Form["amount"]);
        Assert.Equal("usd", transfer.Form["currency"]);
        Assert.Equal(account, transfer.Form["destination"]);
        Assert.Equal($"payout:{provider.Provider}:{period}", transfer.IdempotencyKey);
        var transferId = paid.GetProperty("reference").GetString()!;
        Assert.StartsWith("tr_", transferId, StringComparison.Ordinal);
        Assert.Equal(0, await new LedgerDriver(app).EarningsAsync(provider.Provider));

        // Stripe takes back part of the transfer, then all of it; each event is delivered twice, as Stripe may.
        var uuid = paid.GetProperty("uuid").GetGuid();
        var ledger = new LedgerDriver(app);
        foreach (var (reversedCents, fully) in new[] { (earned / 3, false), (earned, true) })
        {
            var reversal = StripeWebhooks.Event("transfer.reversed", new Dictionary<string, object?>
            {
                ["id"] = transferId, ["object"] = "transfer", ["amount"] = earned, ["amount_reversed"] = reversedCents, ["reversed"] = fully,
                ["metadata"] = new Dictionary<string, string> { ["payout_id"] = uuid.ToString() },
            });
            await StripeWebhooks.DeliverAsync(app, reversal);
            await StripeWebhooks.DeliverAsync(app, reversal.Replace("\"id\":\"evt_", "\"id\":\"evt_again", StringComparison.Ordinal));
            // What Stripe took back is in the provider's earnings again, once, for the next payout run.
            Assert.Equal(reversedCents, await ledger.EarningsAsync(provider.Provider));
        }
        Assert.True((await ledger.CheckAsync()).Ok);
        var mine = await Http.ReadJsonAsync(await (await provider.ClientAsync()).GetAsync($"/api/providers/mine/payouts/{uuid}/"));
        Assert.Equal("reversed", mine.GetProperty("status").GetString());
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payouts/{uuid}/mark-paid/", new { reference = "late" }), HttpStatusCode.Conflict, "payout_not_pending");
        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=payout.reversed&target_type=payout&target={uuid}"));
        Assert.Equal(2, audit.GetProperty("items").GetArrayLength());

        // The next month's run pays the returned earnings again.
        var next = app.CurrentPeriod();
        app.AdvanceToNextMonth();
        operatorClient = await app.OperatorAsync(); // a month later, the earlier sign-in has expired
        var repaid = (await operatorClient.RunPayoutsAsync(next)).GetProperty("payouts").EnumerateArray().Single(p => p.GetProperty("provider").GetGuid() == provider.Provider);
        Assert.Equal(earned, repaid.GetProperty("credits").GetInt64());
        Assert.Equal(0, await ledger.EarningsAsync(provider.Provider));
    }

    [Fact]
    public async Task Connect_NeedsAnApprovedProvider_AndAManager()
    {
        var buyer = await app.SignUpAsync();
        await Http.AssertProblemAsync(await buyer.Client.PostAsync("/api/stripe/connect/", null), HttpStatusCode.NotFound, "not_found");
        var provider = await app.ProviderAsync();
        var member = await app.JoinAsync(provider.Seller, "member");
        await Http.AssertStatusAsync(await member.Client.PostAsync("/api/stripe/connect/", null), HttpStatusCode.Forbidden);
    }
}
