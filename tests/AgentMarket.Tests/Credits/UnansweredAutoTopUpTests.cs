using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Payments;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>The Stripe gateway app whose check that one organization's auto top-up is on can be made to fail, as an outage would.</summary>
public sealed class UnansweredAutoTopUpApp : StripeGatewayApp
{
    public FailingPlanReads PlanReads { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(PlanReads));
    }
}

/// <summary>Throws instead of asking whether auto top-up is still on for the organization it is set to, until cleared.</summary>
public sealed class FailingPlanReads : DbCommandInterceptor
{
    Guid? _organization;

    public void FailFor(Guid? organization) => _organization = organization;

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (_organization is { } failing && command.CommandText.Replace("\"", "", StringComparison.Ordinal).Contains("auto_top_up_package_id IS NOT NULL", StringComparison.Ordinal)
            && command.Parameters.Cast<DbParameter>().Any(p => p.Value is Guid id ? id == failing : p.Value is string text && Guid.TryParse(text, out var parsed) && parsed == failing))
        {
            throw new InvalidOperationException("The database went away while reading this organization's plan.");
        }
        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>
/// An automatic top-up Stripe never answered (ADR-145): the credit jobs retry it with its idempotency key, so it needs no
/// further run to settle; once Stripe can no longer be asked about it, it fails and the next crossing buys anew.
/// </summary>
public class UnansweredAutoTopUpTests(UnansweredAutoTopUpApp app) : IClassFixture<UnansweredAutoTopUpApp>
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

    [Fact]
    public async Task DuringALongOutage_AnUnansweredChargeIsRetriedAtDoublingWaits_NotEveryTick_AndStillFailsAfter23Hours()
    {
        var (subscribed, _) = await BuyerWithSavedCardAsync();
        var buyer = subscribed.Buyer;
        await EnableAsync(buyer, threshold: (await buyer.BalanceAsync()).GetProperty("available").GetInt64() - 5);
        await CrossDuringAnOutageAsync(subscribed);
        // When the payment is due again, in minutes of age: 1, 2, 4 … 64, then hourly, while Stripe remembers its key.
        var retryUntil = (int)TimeSpan.FromHours(23).TotalMinutes;
        var dues = new List<int>();
        for (var due = 1; due < retryUntil; due += Math.Min(due, 60))
        {
            dues.Add(due);
        }

        app.Stripe.FailWith = 503;
        var attempted = new List<int>();
        try
        {
            // A job tick every minute for three hours: Stripe is asked only when the payment is due.
            const int minuteByMinute = 180;
            for (var minute = 1; minute <= minuteByMinute; minute++)
            {
                var before = ChargesOf(buyer).Count;
                app.Clock.Advance(TimeSpan.FromMinutes(1));
                await RunJobsAsync();
                if (ChargesOf(buyer).Count > before)
                {
                    attempted.Add(minute);
                }
            }
            Assert.Equal(dues.Where(d => d <= minuteByMinute), attempted);
            Assert.Equal("pending", Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("status").GetString());

            // Then ticks every ten minutes past the 23 hours: hourly attempts, and the payment fails once Stripe forgets its key.
            for (var minute = minuteByMinute + 10; minute <= retryUntil + 10; minute += 10)
            {
                app.Clock.Advance(TimeSpan.FromMinutes(10));
                await RunJobsAsync();
            }
        }
        finally
        {
            app.Stripe.FailWith = null;
        }

        Assert.Equal("failed", Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("status").GetString());
        Assert.Equal(1 + dues.Count, ChargesOf(buyer).Count); // the run's own attempt, then one per due time
        Assert.Single(ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct());
    }

    [Fact]
    public async Task ARetryThatThrows_DoesNotStopTheRetriesOfTheOtherUnansweredCharges()
    {
        var (failing, _) = await BuyerWithSavedCardAsync();
        var (other, packageCredits) = await BuyerWithSavedCardAsync();
        var otherBefore = (await other.Buyer.BalanceAsync()).GetProperty("available").GetInt64();
        foreach (var subscribed in new[] { failing, other })
        {
            await EnableAsync(subscribed.Buyer, threshold: (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64() - 5);
            await CrossDuringAnOutageAsync(subscribed); // the failing organization's payment first: the job takes the oldest first
        }

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        app.PlanReads.FailFor(failing.Buyer.OrganizationId);
        try
        {
            await RunJobsAsync();
        }
        finally
        {
            app.PlanReads.FailFor(null);
        }

        Assert.Equal("pending", Assert.Single(await AutoTopUpsAsync(failing.Buyer)).GetProperty("status").GetString());
        Assert.Equal("succeeded", Assert.Single(await AutoTopUpsAsync(other.Buyer)).GetProperty("status").GetString());
        Assert.Equal(otherBefore - PerRun + packageCredits, (await other.Buyer.BalanceAsync()).GetProperty("available").GetInt64());

        // The next tick retries the one that failed.
        await RunJobsAsync();
        Assert.Equal("succeeded", Assert.Single(await AutoTopUpsAsync(failing.Buyer)).GetProperty("status").GetString());
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
