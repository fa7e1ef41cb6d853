using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payouts;

public sealed record TestProvider(TestUser Seller, Guid Provider)
{
    /// <summary>A fresh signed-in client: moving the clock a month on expires the sign-up's session.</summary>
    public async Task<HttpClient> ClientAsync()
    {
        var client = Seller.App.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = Seller.Email, password = Seller.Password }), System.Net.HttpStatusCode.OK);
        return client;
    }
}

public static class PayoutIntents
{
    public static async Task<TestProvider> ProviderAsync(this AgentMarketApp app)
    {
        var (seller, _) = await app.SellerAsync();
        var provider = (await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();
        return new TestProvider(seller, provider);
    }

    /// <summary>A buyer's paid run settled to <paramref name="provider"/> as the gateway settles it; returns the provider's earnings from it.</summary>
    public static async Task<long> EarnAsync(this AgentMarketApp app, TestProvider provider, long credits)
    {
        var ledger = new LedgerDriver(app);
        var buyer = await app.SignUpAsync();
        var before = await ledger.EarningsAsync(provider.Provider);
        var key = Guid.NewGuid();
        await ledger.PurchaseAsync(buyer.OrganizationId, credits + 1_000, $"test-purchase:{key}");
        // Spend the free credits elsewhere first, so the run is paid with purchased credits.
        var granted = (await ledger.BalanceAsync(buyer.OrganizationId)).Granted;
        var spendGranted = await ledger.ReserveAsync(buyer.OrganizationId, granted, $"run:{key}:granted");
        await ledger.SettleAsync(buyer.OrganizationId, spendGranted.OperationId, granted, null, $"run:{key}:granted:settle");
        var reserve = await ledger.ReserveAsync(buyer.OrganizationId, credits, $"run:{key}:reserve");
        var settle = await ledger.SettleAsync(buyer.OrganizationId, reserve.OperationId, credits, provider.Provider, $"run:{key}:settle");
        Assert.True(settle.Succeeded, settle.Status.ToString());
        return await ledger.EarningsAsync(provider.Provider) - before;
    }

    /// <summary>The month the app's clock is in, as a payout period.</summary>
    public static string CurrentPeriod(this AgentMarketApp app) => app.Clock.GetUtcNow().UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Moves the app's clock to the first hour of next month, so this month can be paid out.</summary>
    public static void AdvanceToNextMonth(this AgentMarketApp app)
    {
        var now = app.Clock.GetUtcNow();
        var next = new DateTimeOffset(now.Year, now.Month, 1, 0, 30, 0, TimeSpan.Zero).AddMonths(1);
        app.Clock.Advance(next - now);
    }

    public static async Task<System.Text.Json.JsonElement> RunPayoutsAsync(this HttpClient operatorClient, string period) =>
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync("/api/admin/payouts/run/", new { period }));
}
