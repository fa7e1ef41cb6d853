using System.Globalization;
using System.Net;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Economics;

/// <summary>
/// A subscription-priced agent's monthly charges are the provider's revenue: they appear in the provider's economics
/// (money, no runs) and in the platform's credits spent, once per charge, whatever the retries.
/// </summary>
public class SubscriptionChargeEconomicsTests(EconomicsApp app) : IClassFixture<EconomicsApp>
{
    const long MonthlyPrice = 100;

    static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    DateOnly Today => DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime);

    static async Task<JsonElement> EconomicsAsync(HttpClient seller, DateOnly from, DateOnly to, string extra = "") =>
        await Http.ReadJsonAsync(await seller.GetAsync($"/api/providers/mine/economics/?from={Day(from)}&to={Day(to)}{extra}"));

    static async Task<JsonElement> PlatformTodayAsync(HttpClient operatorClient) =>
        await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/platform-metrics/?days=1"));

    Task<DateTime?> NextChargeAsync(Guid config) => app.InScopeAsync(null, services =>
    {
        services.GetRequiredService<CurrentTenant>().EnterSystemScope();
        return services.GetRequiredService<AppDbContext>().CustomerAgentConfigs.Where(c => c.Id == config).Select(c => c.NextChargeUtc).SingleAsync();
    });

    /// <summary>What the ledger's operation with this key moved to the provider's earnings and the platform's fees.</summary>
    async Task<(long Earnings, long Fees)> ChargedAsync(string key) => await app.InScopeAsync(null, async services =>
    {
        services.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = services.GetRequiredService<AppDbContext>();
        var moved = await (
            from o in db.LedgerOperations
            join t in db.LedgerTransfers on o.Id equals t.OperationId
            join credit in db.LedgerAccounts on t.CreditAccountId equals credit.Id
            where o.IdempotencyKey == key
            select new { credit.Kind, t.Amount }).ToListAsync();
        return (moved.Where(m => m.Kind == AgentMarket.Credits.Ledger.AccountKind.ProviderEarnings).Sum(m => m.Amount),
            moved.Where(m => m.Kind == AgentMarket.Credits.Ledger.AccountKind.PlatformFees).Sum(m => m.Amount));
    });

    async Task<string> ChargeKeyAsync(Guid config) => await app.InScopeAsync(null, async services =>
    {
        services.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var keys = await services.GetRequiredService<AppDbContext>().LedgerOperations
            .Where(o => o.IdempotencyKey.StartsWith($"subscription:{config}:") && o.IdempotencyKey.EndsWith(":charge"))
            .Select(o => o.IdempotencyKey).ToListAsync();
        return Assert.Single(keys);
    });

    [Fact]
    public async Task MonthlyCharges_AreTheProvidersRevenue_CountedOnce_InTheDashboardCsvAndPlatformMetrics()
    {
        var operatorClient = await app.OperatorAsync();
        var before = await PlatformTodayAsync(operatorClient);
        var agent = await app.PromptAgentAsync(new { model = "subscription", credits_per_run = MonthlyPrice });
        var seller = agent.Seller.Client;
        var provider = (await Http.ReadJsonAsync(await seller.GetAsync("/api/providers/mine"))).GetProperty("uuid").GetGuid();

        var subscribed = await app.SubscribedAsync(agent);
        var firstDay = Today;

        // The first month, charged on subscribing: gross is the monthly price, the earnings what the ledger credited the
        // provider (the new buyer paid with granted credits, so the promotions account paid them), the rest commission; no runs.
        var (earnings, fees) = await ChargedAsync(await ChargeKeyAsync(subscribed.Config));
        Assert.True(earnings > 0 && earnings < MonthlyPrice, "the provider earns the price less the platform's commission");
        var commission = MonthlyPrice - earnings;
        var first = await EconomicsAsync(seller, firstDay, firstDay);
        var totals = first.GetProperty("totals");
        Assert.Equal(MonthlyPrice, totals.GetProperty("gross_credits").GetInt64());
        Assert.Equal(earnings, totals.GetProperty("earnings_credits").GetInt64());
        Assert.Equal(await new LedgerDriver(app).EarningsAsync(provider), totals.GetProperty("earnings_credits").GetInt64());
        Assert.Equal(commission, totals.GetProperty("commission_credits").GetInt64());
        Assert.Equal(MonthlyPrice, totals.GetProperty("promotional_credits").GetInt64());
        Assert.Equal(0, totals.GetProperty("runs").GetInt64());
        Assert.Equal(1, totals.GetProperty("unique_customers").GetInt32());
        var today = Assert.Single(first.GetProperty("rows").EnumerateArray());
        Assert.Equal(MonthlyPrice, today.GetProperty("gross_credits").GetInt64());
        Assert.Equal(0, today.GetProperty("runs").GetInt64());
        var byAgent = Assert.Single((await EconomicsAsync(seller, firstDay, firstDay, "&group_by=agent")).GetProperty("rows").EnumerateArray());
        Assert.Equal(agent.ListingId, byAgent.GetProperty("listing").GetGuid());
        Assert.Equal(MonthlyPrice, byAgent.GetProperty("gross_credits").GetInt64());

        var csv = await (await seller.GetAsync($"/api/providers/mine/economics/?from={Day(firstDay)}&to={Day(firstDay)}&format=csv")).Content.ReadAsStringAsync();
        Assert.Contains($"{Day(firstDay)},0,0,{MonthlyPrice},{earnings},{commission},", csv, StringComparison.Ordinal);

        // The platform's credits spent and fees grow by the charge; runs and active organizations do not (no one ran anything).
        var after = await PlatformTodayAsync(operatorClient);
        Assert.Equal(before.GetProperty("totals").GetProperty("credits_spent").GetInt64() + MonthlyPrice, after.GetProperty("totals").GetProperty("credits_spent").GetInt64());
        Assert.Equal(before.GetProperty("totals").GetProperty("platform_fees_credits").GetInt64() + fees, after.GetProperty("totals").GetProperty("platform_fees_credits").GetInt64());
        Assert.Equal(before.GetProperty("totals").GetProperty("runs").GetInt64(), after.GetProperty("totals").GetProperty("runs").GetInt64());
        Assert.Equal(before.GetProperty("active_organizations").GetProperty("day_1").GetInt64(), after.GetProperty("active_organizations").GetProperty("day_1").GetInt64());
        var topAgent = after.GetProperty("top_agents").EnumerateArray().Single(a => a.GetProperty("listing").GetGuid() == agent.ListingId);
        Assert.Equal(MonthlyPrice, topAgent.GetProperty("credits").GetInt64());

        // The renewal a month later adds another month on its own day.
        await new LedgerDriver(app).PurchaseAsync(subscribed.Buyer.OrganizationId, MonthlyPrice, $"renewal-credits:{subscribed.Config}");
        var renewal = await NextChargeAsync(subscribed.Config);
        app.Clock.Advance(TimeSpan.FromDays(31));
        var jobs = app.Services.GetRequiredService<SubscriptionCharges>();
        await jobs.RunOnceAsync(CancellationToken.None);
        var renewalDay = Today;
        seller = app.BearerClient(await agent.Seller.CreateTokenAsync()); // the month outlived the sign-in cookie
        var twoMonths = await EconomicsAsync(seller, firstDay, renewalDay);
        Assert.Equal(2 * MonthlyPrice, twoMonths.GetProperty("totals").GetProperty("gross_credits").GetInt64());
        Assert.Equal(await new LedgerDriver(app).EarningsAsync(provider), twoMonths.GetProperty("totals").GetProperty("earnings_credits").GetInt64());
        Assert.Equal(0, twoMonths.GetProperty("totals").GetProperty("runs").GetInt64());
        Assert.Equal(1, twoMonths.GetProperty("totals").GetProperty("unique_customers").GetInt32());
        var renewalRow = twoMonths.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("day").GetString() == Day(renewalDay));
        Assert.Equal(MonthlyPrice, renewalRow.GetProperty("gross_credits").GetInt64());

        // A retried charge of the same month (its next charge date not saved, say) replays the ledger and adds nothing.
        var following = await NextChargeAsync(subscribed.Config);
        Assert.True(following > renewal, "the renewal was charged");
        await app.InScopeAsync(null, services =>
        {
            services.GetRequiredService<CurrentTenant>().EnterSystemScope();
            return services.GetRequiredService<AppDbContext>().CustomerAgentConfigs.Where(c => c.Id == subscribed.Config)
                .ExecuteUpdateAsync(c => c.SetProperty(x => x.NextChargeUtc, renewal));
        });
        await jobs.RunOnceAsync(CancellationToken.None);
        Assert.Equal(following, await NextChargeAsync(subscribed.Config));
        var replayed = await EconomicsAsync(seller, firstDay, renewalDay);
        Assert.Equal(2 * MonthlyPrice, replayed.GetProperty("totals").GetProperty("gross_credits").GetInt64());
        Assert.Equal(await new LedgerDriver(app).EarningsAsync(provider), replayed.GetProperty("totals").GetProperty("earnings_credits").GetInt64());
    }
}
