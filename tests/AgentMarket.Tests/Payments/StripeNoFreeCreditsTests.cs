using System.Net;
using System.Net.Http.Json;
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
    public async Task DowngradeToFree_CancelsTheStripeSubscriptionAtPeriodEnd_AndAPaidDowngradeIsRefused()
    {
        var user = await app.SignUpAsync();
        var subscription = await user.SubscribeThroughStripeAsync("pro");

        await Http.AssertProblemAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "plus" }), HttpStatusCode.Conflict, "downgrade_not_supported");
        var scheduled = await Http.ReadJsonAsync(await user.Client.PostAsJsonAsync("/api/credits/plan/", new { plan = "free" }));
        Assert.Equal("free", scheduled.GetProperty("plan").GetProperty("scheduled_plan").GetString());
        Assert.Contains(app.Stripe.Requests, r => r.Method == "POST" && r.Path == $"/v1/subscriptions/{subscription.SubscriptionId}");
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
