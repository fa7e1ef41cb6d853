using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Jobs;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// With Stripe collecting the money, nothing may fall back to the sandbox's "the saved card always pays": no automatic
/// top-up without a card Stripe saved, no renewals the job would charge itself, and a downgrade changes the Stripe
/// subscription rather than the local plan only. Its own app, because it moves the clock past a billing period.
/// </summary>
public class StripeNoFreeCreditsTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task AutoTopUp_CannotBeEnabledWithoutACardStripeSaved()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var response = await user.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = await user.PackageIdAsync("Starter"), auto_top_up_threshold = 100 });
        await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "payment_method_required");
    }

    [Fact]
    public async Task DowngradeToFree_CancelsTheStripeSubscriptionAtPeriodEnd()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("pro");

        var scheduled = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }));
        Assert.Equal("free", scheduled.GetProperty("plan").GetProperty("scheduled_plan").GetString());
        var update = Assert.Single(app.Stripe.Requests, r => r.Method == "POST" && r.Path == $"/v1/subscriptions/{subscription.SubscriptionId}");
        Assert.Equal("true", update.Form["cancel_at_period_end"]);
    }

    [Fact]
    public async Task KeepingThePlan_DropsAScheduledDowngrade_AndUndoesItAtStripe()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("pro");
        var pro = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/plans/"))).EnumerateArray().Single(p => p.GetProperty("code").GetString() == "pro");
        List<StripeRequest> Updates() => app.Stripe.Requests.Where(r => r.Method == "POST" && r.Path == $"/v1/subscriptions/{subscription.SubscriptionId}").ToList();

        // To Free: the subscription was set to end; keeping Pro sets it to renew again.
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }));
        var kept = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "pro" }));
        Assert.Equal(("pro", JsonValueKind.Null), (kept.GetProperty("plan").GetProperty("plan").GetString(), kept.GetProperty("plan").GetProperty("scheduled_plan").ValueKind));
        Assert.Equal(["true", "false"], Updates().Select(u => u.Form["cancel_at_period_end"]));

        // To Plus: the price was lowered from the next invoice; keeping Pro puts Pro's price back.
        await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "plus" }));
        kept = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "pro" }));
        Assert.Equal(JsonValueKind.Null, kept.GetProperty("plan").GetProperty("scheduled_plan").ValueKind);
        Assert.Equal(pro.GetProperty("monthly_price_cents").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            Updates().Last().Form["items[0][price_data][unit_amount]"]);

        // Nothing scheduled: choosing the current plan again is refused, and Stripe is not called.
        var calls = app.Stripe.Requests.Count;
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "pro" }), HttpStatusCode.Conflict, "already_on_plan");
        Assert.Equal(calls, app.Stripe.Requests.Count);
    }

    [Fact]
    public async Task APaidDowngrade_ChangesTheStripePriceFromTheNextInvoice_AndRenewsIntoTheCheaperPlan()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("pro");
        var plus = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/plans/"))).EnumerateArray().Single(p => p.GetProperty("code").GetString() == "plus");
        var plusMonthlyCents = plus.GetProperty("monthly_price_cents").GetInt64();

        // Stripe restarts the period when the interval changes, so a downgrade keeps it.
        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "plus", interval = "yearly" }), HttpStatusCode.Conflict, "downgrade_not_supported");
        var scheduled = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "plus" }));
        Assert.Equal("plus", scheduled.GetProperty("plan").GetProperty("scheduled_plan").GetString());
        Assert.Equal("pro", scheduled.GetProperty("plan").GetProperty("plan").GetString());

        var update = Assert.Single(app.Stripe.Requests, r => r.Method == "POST" && r.Path == $"/v1/subscriptions/{subscription.SubscriptionId}");
        Assert.Equal("none", update.Form["proration_behavior"]);
        Assert.Equal(plusMonthlyCents.ToString(System.Globalization.CultureInfo.InvariantCulture), update.Form["items[0][price_data][unit_amount]"]);
        Assert.Equal("month", update.Form["items[0][price_data][recurring][interval]"]);
        Assert.StartsWith("si_", update.Form["items[0][id]"], StringComparison.Ordinal);
        var product = Assert.Single(app.Stripe.Requests, r => r.Method == "POST" && r.Path == "/v1/products" && r.IdempotencyKey.Contains(subscription.SubscriptionId, StringComparison.Ordinal));
        Assert.Contains("Plus", product.Form["name"], StringComparison.Ordinal);
        Assert.StartsWith("prod_", update.Form["items[0][price_data][product]"], StringComparison.Ordinal);

        // At period end the job leaves a Stripe-billed plan to Stripe: the invoice at the new price renews it as Plus.
        using var client = app.BearerClient(await user.CreateTokenAsync()); // outlives the browser session across the month
        var periodEnd = scheduled.GetProperty("plan").GetProperty("current_period_end").GetDateTime();
        app.Clock.Advance(periodEnd - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));
        await app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);
        Assert.Equal("pro", (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        var before = (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64();

        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("invoice.paid",
            StripeWebhooks.Invoice(StripeWebhooks.NewId("in"), subscription.SubscriptionId, "subscription_cycle", plusMonthlyCents, periodEnd, periodEnd.AddMonths(1))));

        var renewed = await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"));
        Assert.Equal("plus", renewed.GetProperty("plan").GetString());
        Assert.Equal(JsonValueKind.Null, renewed.GetProperty("scheduled_plan").ValueKind);
        Assert.Equal(before + plus.GetProperty("monthly_credits").GetInt64(), (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task APeriodNobodyPaysFor_EndsOnFree_WithoutACharge()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        using var client = app.BearerClient(await user.CreateTokenAsync());
        var plan = await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"));
        var before = (await Http.ReadJsonAsync(await client.GetAsync("/api/payments/"))).GetProperty("total").GetInt32();

        // Stripe never reports the renewal (no invoice.paid) and the subscription link is lost: the job must not charge.
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
            var organizationPlan = db.OrganizationPlans.Single(p => p.OrganizationId == user.OrganizationId);
            organizationPlan.ExternalSubscriptionId = null;
            return await db.SaveChangesAsync();
        });
        app.Clock.Advance(plan.GetProperty("current_period_end").GetDateTime() - app.Clock.GetUtcNow().UtcDateTime + TimeSpan.FromMinutes(1));
        await app.Services.GetRequiredService<CreditJobs>().RunOnceAsync(CancellationToken.None);

        Assert.Equal("free", (await Http.ReadJsonAsync(await client.GetAsync("/api/credits/plan/"))).GetProperty("plan").GetString());
        Assert.Equal(before, (await Http.ReadJsonAsync(await client.GetAsync("/api/payments/"))).GetProperty("total").GetInt32());
    }
}
