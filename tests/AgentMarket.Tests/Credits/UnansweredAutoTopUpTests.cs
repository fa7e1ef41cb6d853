using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Payments;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>
/// An automatic top-up Stripe never answered (ADR-145): the credit jobs retry it with its idempotency key, so it needs no
/// further run to settle; once Stripe can no longer be asked about it, it fails and the next crossing buys anew.
/// </summary>
public class UnansweredAutoTopUpTests(StripeGatewayApp app) : IClassFixture<StripeGatewayApp>
{
    const long PerRun = 10;

    [Fact]
    public async Task AChargeStripeDidNotAnswer_IsRetriedByTheCreditJobs_WithoutAnotherRun()
    {
        var (subscribed, packageCredits) = await BuyerWithSavedCardAsync();
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);
        await CrossDuringAnOutageAsync(subscribed);

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await RunJobsAsync();

        var topUp = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("succeeded", topUp.GetProperty("status").GetString());
        Assert.Single(ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct());
        Assert.Equal(before - PerRun + packageCredits, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AChargeStripeNeverAnswered_FailsOnceStripeForgetsItsKey_AndTheNextCrossingBuysAgain()
    {
        var (subscribed, packageCredits) = await BuyerWithSavedCardAsync();
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);
        await CrossDuringAnOutageAsync(subscribed);

        app.Stripe.FailWith = 503;
        try
        {
            app.Clock.Advance(TimeSpan.FromMinutes(2));
            await RunJobsAsync(); // Stripe still down: the payment stays pending
            Assert.Equal("pending", Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("status").GetString());
            app.Clock.Advance(TimeSpan.FromHours(23));
            await RunJobsAsync();
        }
        finally
        {
            app.Stripe.FailWith = null;
        }

        var expired = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("failed", expired.GetProperty("status").GetString());
        // Nobody refused it: auto top-up stays on, and the owners are not told it was switched off.
        var settings = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/settings/"));
        Assert.NotEqual(JsonValueKind.Null, settings.GetProperty("auto_top_up_package_uuid").ValueKind);
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("auto_top_up_failure_reason").ValueKind);

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses again"), HttpStatusCode.OK);

        Assert.Equal(2, ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct().Count());
        var topUps = await AutoTopUpsAsync(buyer);
        Assert.Single(topUps, p => p.GetProperty("status").GetString() == "succeeded");
        Assert.Equal(before - 2 * PerRun + packageCredits, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    /// <summary>A run takes the wallet under the threshold while Stripe answers nothing: the top-up is left pending.</summary>
    async Task CrossDuringAnOutageAsync(Subscribed subscribed)
    {
        app.Stripe.FailWith = 500;
        try
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses during an outage"), HttpStatusCode.OK);
        }
        finally
        {
            app.Stripe.FailWith = null;
        }
        Assert.Equal("pending", Assert.Single(await AutoTopUpsAsync(subscribed.Buyer)).GetProperty("status").GetString());
    }

    Task RunJobsAsync() => app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);

    /// <summary>A Pro buyer (through Stripe) of an agent costing a fixed price per run, whose Starter package Checkout saved a card.</summary>
    async Task<(Subscribed Subscribed, long PackageCredits)> BuyerWithSavedCardAsync()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = PerRun }));
        await subscribed.Buyer.SubscribeThroughStripeAsync("pro");
        await subscribed.Buyer.BuyThroughStripeAsync("Starter", app.Stripe, FakeStripe.SucceedingCard);
        var starter = await subscribed.Buyer.PackageIdAsync("Starter");
        var package = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/packages/"))).EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == starter);
        return (subscribed, package.GetProperty("credits").GetInt64() + package.GetProperty("bonus_credits").GetInt64());
    }

    static async Task EnableAsync(TestUser buyer, long threshold) =>
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = await buyer.PackageIdAsync("Starter"), auto_top_up_threshold = threshold }));

    static async Task<List<JsonElement>> AutoTopUpsAsync(TestUser user) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Where(p => p.GetProperty("purpose").GetString() == "auto_top_up").ToList();

    List<StripeRequest> ChargesOf(TestUser user) => app.Stripe.OffSessionCharges().Where(c => c.Form["metadata[organization_id]"] == user.OrganizationId.ToString()).ToList();
}
