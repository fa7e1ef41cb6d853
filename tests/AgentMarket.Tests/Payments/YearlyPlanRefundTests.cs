using System.Net.Http.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// A yearly plan is paid once and credited every month: its refund takes back the share of every month's credits its
/// period granted so far, as far as the wallet still holds them, and a full refund ends the plan so the months stop.
/// </summary>
public class YearlyPlanRefundTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    /// <summary>A user whose client uses a token: months later, a browser session cookie (14 days) has expired.</summary>
    async Task<TestUser> LongLivedUserAsync()
    {
        var user = await app.SignUpAsync();
        return user with { Client = app.BearerClient(await user.CreateTokenAsync()) };
    }

    async Task PassMonthsAsync(int months)
    {
        for (var month = 0; month < months; month++)
        {
            app.Clock.Advance(TimeSpan.FromDays(31));
            await app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);
        }
    }

    static async Task<List<long>> AmountsAsync(TestUser user, string type)
    {
        var page = await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/credits/transactions/?type={type}&limit=100"));
        return page.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("amount").GetInt64()).ToList();
    }

    [Fact]
    public async Task RefundingAYearlyPlan_TakesBackTheShareOfEveryMonthItGranted_AndInFullEndsThePlanAndItsMonths()
    {
        var user = await LongLivedUserAsync();
        var paid = await user.UpgradeAsync("pro", "yearly");
        var payment = paid.GetProperty("uuid").GetGuid();
        var amount = paid.GetProperty("amount_cents").GetInt64();
        await PassMonthsAsync(2);
        var monthly = await AmountsAsync(user, "monthly");
        Assert.Equal(3, monthly.Count);
        var granted = monthly.Sum();

        var operatorClient = await app.OperatorAsync();
        var half = amount / 2;
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = half }));
        Assert.Equal(-(granted * half / amount), (await AmountsAsync(user, "refund")).Sum());
        Assert.Equal("pro", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());

        // The rest: every credit the three months granted is back, the plan is Free, and no month is granted after.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { }));
        Assert.Equal(-granted, (await AmountsAsync(user, "refund")).Sum());
        Assert.Equal("free", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        await PassMonthsAsync(1);
        Assert.Equal(3, (await AmountsAsync(user, "monthly")).Count);
        Assert.True((await Http.ReadJsonAsync(await (await app.OperatorAsync()).GetAsync("/api/admin/ledger/check"))).GetProperty("ok").GetBoolean()); // a new sign-in: a month on, the first has expired
    }

    [Fact]
    public async Task RefundingAYearlyPlanWhoseCreditsWereSpent_TakesBackWhatTheWalletStillHolds_AndLeavesNoDebt()
    {
        var user = await LongLivedUserAsync();
        var payment = (await user.UpgradeAsync("pro", "yearly")).GetProperty("uuid").GetGuid();
        // The first month's credits spent but one, then the second month granted: the wallet holds more than a month's
        // credits but less than the two months granted.
        await user.SpendAsync((await user.BalanceAsync()).GetProperty("granted").GetInt64() - 1);
        await PassMonthsAsync(1);
        var granted = (await AmountsAsync(user, "monthly")).Sum();
        var held = (await user.BalanceAsync()).GetProperty("granted").GetInt64();
        Assert.InRange(held, granted / 2 + 1, granted - 1);

        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { }));
        Assert.Equal(-held, (await AmountsAsync(user, "refund")).Sum());
        Assert.Equal(0, (await user.BalanceAsync()).GetProperty("debt").GetInt64());
    }
}
