using System.Text.Json;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Credits;

public class CreditsJourneyTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task NewOrganization_Sees300StarterPlus50Daily_OnFree()
    {
        var user = await app.SignUpAsync();
        var balance = await user.BalanceAsync();
        Assert.Equal(user.OrganizationId, balance.GetProperty("organization").GetGuid());
        Assert.Equal("free", balance.GetProperty("plan").GetString());
        Assert.Equal(350, balance.GetProperty("balance").GetInt64());
        Assert.Equal(350, balance.GetProperty("available").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(350, balance.GetProperty("granted").GetInt64());
        Assert.Equal(0, balance.GetProperty("paid").GetInt64());

        // Reading again grants nothing more.
        Assert.Equal(350, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var history = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/"));
        Assert.Equal(["daily", "starter"], history.GetProperty("items").EnumerateArray().Select(t => t.GetProperty("type").GetString()!).ToArray());
    }

    [Fact]
    public async Task FreePlan_CannotBuyPackages_AndGetsAnUpgradeHint()
    {
        var user = await app.SignUpAsync();
        var response = await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { package_uuid = await user.PackageIdAsync("Starter") });
        var problem = await Http.AssertProblemAsync(response, HttpStatusCode.Forbidden, "plan_required");
        Assert.Equal("/pricing", problem.GetProperty("upgrade_url").GetString());
    }

    [Fact]
    public async Task UpgradeToPlus_ThenBuyStarter_AddsExactlyTheCredits_WithReceipts()
    {
        var user = await app.SignUpAsync();
        await user.BalanceAsync();
        var upgrade = await user.UpgradeAsync("plus");
        Assert.Equal("succeeded", upgrade.GetProperty("status").GetString());
        Assert.Equal(1990, upgrade.GetProperty("amount_cents").GetInt64());
        var plan = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"));
        Assert.Equal("plus", plan.GetProperty("plan").GetString());
        Assert.Equal(350 + 2_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        var purchase = await user.BuyAsync(new { package_uuid = await user.PackageIdAsync("Starter") });
        Assert.Equal(1500, purchase.GetProperty("amount_cents").GetInt64());
        var balance = await user.BalanceAsync();
        Assert.Equal(350 + 2_000 + 1_500, balance.GetProperty("balance").GetInt64());
        Assert.Equal(1_500, balance.GetProperty("paid").GetInt64());

        var receipts = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/receipts/"));
        Assert.Equal(2, receipts.GetProperty("total").GetInt32());
        var receipt = await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/receipts/{purchase.GetProperty("receipt").GetGuid()}"));
        Assert.Equal(1500, receipt.GetProperty("total_cents").GetInt64());
        Assert.Equal(0, receipt.GetProperty("tax_cents").GetInt64());
        Assert.True(receipt.GetProperty("test_mode").GetBoolean());
        Assert.Matches("^AM-[0-9]{6}$", receipt.GetProperty("number").GetString());
        Assert.Contains("1,500 credits", receipt.GetProperty("lines")[0].GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RefundingAPlanPayment_TakesBackItsUnspentMonthlyCredits_AndAWholeRefundEndsThePlan()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync();
        await user.BalanceAsync();
        var upgrade = await user.UpgradeAsync("plus"); // $19.90 for 2,000 monthly credits
        var payment = upgrade.GetProperty("uuid").GetGuid();
        Assert.Equal(350 + 2_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        // A quarter refunded: a quarter of the month's credits go back; the plan stays.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { amount_cents = 1990 / 4 }));
        Assert.Equal(350 + 2_000 - 2_000 * (1990 / 4) / 1990, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("plus", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());

        // The rest refunded: the plan ends at once, and its remaining monthly credits go with it.
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/payments/{payment}/refund", new { }));
        var balance = await user.BalanceAsync();
        Assert.Equal((350L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("debt").GetInt64()));
        Assert.Equal("free", (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        var history = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=refund"));
        Assert.Equal(2, history.GetProperty("total").GetInt32());
        Assert.True((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/ledger/check"))).GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task DeclinedCard_Returns402_AndAddsNothing_AndPayingTwiceAddsOnce()
    {
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("plus");
        var before = (await user.BalanceAsync()).GetProperty("balance").GetInt64();
        var checkout = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/purchase/", new { package_uuid = await user.PackageIdAsync("Standard") }), HttpStatusCode.Created);
        var id = checkout.GetProperty("checkout_uuid").GetGuid();

        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{id}/complete/", new { card_number = "4000 0000 0000 0002" }), HttpStatusCode.PaymentRequired, "card_declined");
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync($"/api/payments/sandbox/{id}/complete/", new { card_number = "1234" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal("failed", (await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/payments/{id}"))).GetProperty("status").GetString());

        var paid = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => user.Client.PostAsJsonAsync($"/api/payments/sandbox/{id}/complete/", new { card_number = "4242424242424242" })));
        Assert.All(paid, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(before + 5_000, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
        var purchases = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=purchase"));
        Assert.Equal(1, purchases.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task IdempotencyKey_ReturnsTheSameCheckout_AndConflictsForAnotherPurchase()
    {
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("pro");
        var starter = await user.PackageIdAsync("Starter");
        var key = Guid.NewGuid().ToString();
        async Task<HttpResponseMessage> PostAsync(Guid package)
        {
            var request = Http.Request(HttpMethod.Post, "/api/credits/purchase/", json: new { package_uuid = package });
            request.Headers.Add("Idempotency-Key", key);
            return await user.Client.SendAsync(request);
        }
        var first = await Http.ReadJsonAsync(await PostAsync(starter), HttpStatusCode.Created);
        var second = await Http.ReadJsonAsync(await PostAsync(starter), HttpStatusCode.Created);
        Assert.Equal(first.GetProperty("checkout_uuid").GetGuid(), second.GetProperty("checkout_uuid").GetGuid());
        await Http.AssertProblemAsync(await PostAsync(await user.PackageIdAsync("Power")), HttpStatusCode.Conflict, "idempotency_conflict");
    }

    [Fact]
    public async Task Transactions_FilterByTypeAndDate_AndExportCsv()
    {
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("plus");
        await user.BuyAsync(new { package_uuid = await user.PackageIdAsync("Starter") });

        var monthly = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/?type=monthly"));
        var item = Assert.Single(monthly.GetProperty("items").EnumerateArray());
        Assert.Equal(2_000, item.GetProperty("amount").GetInt64());

        var all = await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/transactions/"));
        var newest = all.GetProperty("items")[0];
        Assert.Equal("purchase", newest.GetProperty("type").GetString());
        Assert.Equal(350 + 2_000 + 1_500, newest.GetProperty("balance_after").GetInt64());

        var future = Uri.EscapeDataString(DateTime.UtcNow.AddDays(1).ToString("O"));
        Assert.Equal(0, (await Http.ReadJsonAsync(await user.Client.GetAsync($"/api/credits/transactions/?from={future}"))).GetProperty("total").GetInt32());
        await Http.AssertProblemAsync(await user.Client.GetAsync("/api/credits/transactions/?type=bogus"), HttpStatusCode.BadRequest, "validation_failed");

        var csv = await user.Client.GetAsync("/api/credits/transactions/?format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Trim().Split('\n');
        Assert.Equal("uuid,type,amount,balance_after,description,reference,created", lines[0]);
        Assert.Equal(5, lines.Length);
    }

    [Fact]
    public async Task Downgrade_IsScheduledForPeriodEnd_AndApplied_ByTheRenewalJob()
    {
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("pro");
        var scheduled = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }));
        Assert.Null(scheduled.GetProperty("checkout").GetString());
        Assert.Equal("pro", scheduled.GetProperty("plan").GetProperty("plan").GetString());
        Assert.Equal("free", scheduled.GetProperty("plan").GetProperty("scheduled_plan").GetString());
    }

    [Fact]
    public async Task BuyingACheaperPlanOutright_IsRefused_AndOnlyTheOwnerBuysPlans()
    {
        var owner = await app.SignUpAsync();
        await owner.UpgradeAsync("pro");
        var cheaper = await Http.AssertProblemAsync(await owner.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus" }), HttpStatusCode.Conflict, "downgrade_at_period_end");
        Assert.Contains("POST /api/credits/plan/", cheaper.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("pro", (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());

        // A manager buys packages, as on the credits page, but not plans, as on the pricing page.
        var manager = await app.JoinAsync(owner, "manager");
        await Http.AssertProblemAsync(await manager.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "pro", interval = "yearly" }), HttpStatusCode.Forbidden, "insufficient_role");
        await Http.AssertStatusAsync(await manager.Client.PostAsJsonAsync("/api/credits/purchase/", new { package_uuid = await owner.PackageIdAsync("Starter") }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task FromYearlyToMonthlyBilling_IsADowngrade_ScheduledForTheYearsEnd()
    {
        var owner = await app.SignUpAsync();
        await owner.UpgradeAsync("plus", "yearly");
        await Http.AssertProblemAsync(await owner.Client.PostAsJsonAsync("/api/credits/purchase/", new { plan = "plus", interval = "monthly" }), HttpStatusCode.Conflict, "downgrade_at_period_end");

        var scheduled = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "plus", interval = "monthly" }));
        Assert.Equal(JsonValueKind.Null, scheduled.GetProperty("checkout").ValueKind);
        var plan = scheduled.GetProperty("plan");
        Assert.Equal(("plus", "yearly", "plus", "monthly"),
            (plan.GetProperty("plan").GetString(), plan.GetProperty("interval").GetString(), plan.GetProperty("scheduled_plan").GetString(), plan.GetProperty("scheduled_interval").GetString()));
    }

    [Fact]
    public async Task AScheduledDowngrade_IsDropped_ByKeepingTheCurrentPlan()
    {
        var user = await app.SignUpAsync();
        await user.UpgradeAsync("pro");
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }));
        Assert.Contains("Keep Pro</button>", await user.Client.GetStringAsync("/pricing"), StringComparison.Ordinal);

        var kept = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "pro" }));
        Assert.Null(kept.GetProperty("checkout").GetString());
        Assert.Equal(("pro", JsonValueKind.Null), (kept.GetProperty("plan").GetProperty("plan").GetString(), kept.GetProperty("plan").GetProperty("scheduled_plan").ValueKind));
        Assert.DoesNotContain("Keep Pro</button>", await user.Client.GetStringAsync("/pricing"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plans_And_Packages_AreTheSpecsNumbers()
    {
        var client = app.CreateClient();
        var plans = (await Http.ReadJsonAsync(await client.GetAsync("/api/plans/"))).EnumerateArray().ToDictionary(p => p.GetProperty("code").GetString()!);
        Assert.Equal(["free", "plus", "pro", "enterprise"], plans.Keys.ToArray());
        Assert.Equal((1990, 1590, 2000), (plans["plus"].GetProperty("monthly_price_cents").GetInt64(), plans["plus"].GetProperty("yearly_monthly_price_cents").GetInt64(), plans["plus"].GetProperty("monthly_credits").GetInt64()));
        Assert.Equal((9990, 7990, 10000), (plans["pro"].GetProperty("monthly_price_cents").GetInt64(), plans["pro"].GetProperty("yearly_monthly_price_cents").GetInt64(), plans["pro"].GetProperty("monthly_credits").GetInt64()));
        Assert.Equal(50, plans["free"].GetProperty("daily_credits").GetInt64());
        Assert.True(plans["enterprise"].GetProperty("is_custom").GetBoolean());

        var packages = (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/packages/"))).EnumerateArray()
            .Select(p => (p.GetProperty("name").GetString(), p.GetProperty("credits").GetInt64(), p.GetProperty("price_cents").GetInt64())).ToArray();
        Assert.Equal([("Starter", 1500L, 1500L), ("Standard", 5000L, 5000L), ("Power", 10000L, 10000L)], packages);
    }
}
