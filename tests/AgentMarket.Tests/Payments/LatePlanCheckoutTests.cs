using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// A plan checkout paid after the organization moved to that plan or a better one (a tab left open) is not applied: it
/// would undo the newer plan. Its money goes back in full and the payment says why.
/// </summary>
public class LatePlanCheckoutTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    static async Task<Guid> OpenCheckoutAsync(TestUser user, string plan, string interval) =>
        (await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan, interval }), HttpStatusCode.Created)).GetProperty("checkout_uuid").GetGuid();

    [Theory]
    [InlineData("plus", "monthly")] // a cheaper plan than the one bought since
    [InlineData("pro", "yearly")] // the very plan bought since
    public async Task AnOldPlanCheckoutPaidAfterANewerPlan_IsRefundedInFull_AndChangesNothing(string oldPlan, string oldInterval)
    {
        var user = await app.SignUpAsync();
        var old = await OpenCheckoutAsync(user, oldPlan, oldInterval);
        await user.UpgradeAsync("pro", "yearly");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();

        var paid = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{old}/complete/", new { card_number = "4242 4242 4242 4242" }));
        Assert.Equal(("refunded", paid.GetProperty("amount_cents").GetInt64()), (paid.GetProperty("status").GetString(), paid.GetProperty("refunded_cents").GetInt64()));
        Assert.Contains("Pro (yearly)", paid.GetProperty("failure_reason").GetString(), StringComparison.Ordinal);

        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal(("pro", "yearly"), (plan.GetProperty("plan").GetString(), plan.GetProperty("interval").GetString()));
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("refunded", (await user.PaymentAsync(old)).GetProperty("status").GetString());
        // Paying it again changes nothing more.
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{old}/complete/", new { card_number = "4242 4242 4242 4242" }),
            HttpStatusCode.Conflict, "checkout_closed");
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }
}
