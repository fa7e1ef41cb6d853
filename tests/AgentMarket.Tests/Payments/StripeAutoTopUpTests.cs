using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// Auto top-up with Stripe: a package's Checkout saves the card for off-session use; a run that takes the wallet under
/// the threshold charges it with an off-session PaymentIntent, once per crossing however many runs cross together;
/// credits arrive only with the payment; a refused card switches auto top-up off and tells the owners.
/// </summary>
public class StripeAutoTopUpTests(StripeGatewayApp app) : IClassFixture<StripeGatewayApp>
{
    const long PerRun = 10;

    [Fact]
    public async Task EnablingAutoTopUp_NeedsTheCardAPackageCheckoutSaves()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var starter = await user.PackageIdAsync("Starter");

        var refused = await user.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = 100 });
        var problem = await Http.AssertProblemAsync(refused, HttpStatusCode.Conflict, "payment_method_required");
        Assert.Equal("/credits", problem.GetProperty("purchase_url").GetString());
        Assert.Null((await SettingsAsync(user)).GetProperty("auto_top_up_package_uuid").GetString());

        var purchase = await user.BuyThroughStripeAsync("Starter", app.Stripe);
        var checkout = app.Stripe.CheckoutSessions().Single(s => s.Form["client_reference_id"] == purchase.PaymentId.ToString());
        Assert.Equal("off_session", checkout.Form["payment_intent_data[setup_future_usage]"]);
        // The plan's Checkout made the organization a Stripe customer: the package's Checkout names it rather than making another.
        Assert.Equal(FakeStripe.Customer, checkout.Form["customer"]);
        Assert.False(checkout.Form.ContainsKey("customer_creation"));
        var card = (await SettingsAsync(user)).GetProperty("saved_card");
        Assert.Equal("visa", card.GetProperty("brand").GetString());
        Assert.Equal("4242", card.GetProperty("last4").GetString());
        Assert.Contains("ending 4242", await user.Client.GetStringAsync("/credits"), StringComparison.Ordinal);

        var enabled = await Http.ReadJsonAsync(await user.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = starter, auto_top_up_threshold = 100 }));
        Assert.Equal(starter, enabled.GetProperty("auto_top_up_package_uuid").GetGuid());
    }

    [Fact]
    public async Task TheCardOfTheCheckoutStartedLast_IsKept_WhenStripeDeliversTheEarlierCheckoutLate()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var starter = await user.PackageIdAsync("Starter");
        // Two package checkouts, the first paid with the card ending 0002, the second with the one ending 4242.
        var (earlier, later) = (await user.StartCheckoutAsync(new { package_uuid = starter }), await user.StartCheckoutAsync(new { package_uuid = starter }));
        var (earlierIntent, laterIntent) = (StripeWebhooks.NewId("pi"), StripeWebhooks.NewId("pi"));
        app.Stripe.CheckoutPaysWith(earlierIntent, FakeStripe.DecliningCard);
        app.Stripe.CheckoutPaysWith(laterIntent, FakeStripe.SucceedingCard);

        async Task CompleteAsync(JsonElement checkout, string intent) => await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(checkout.GetProperty("checkout_uuid").GetGuid(), "payment", paymentIntent: intent)));
        await CompleteAsync(later, laterIntent);
        await CompleteAsync(earlier, earlierIntent);

        Assert.Equal("4242", (await SettingsAsync(user)).GetProperty("saved_card").GetProperty("last4").GetString());
        Assert.Equal(2, (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Count(p => p.GetProperty("purpose").GetString() == "package" && p.GetProperty("status").GetString() == "succeeded"));
    }

    [Fact]
    public async Task RunsThatCrossTheThreshold_ChargeTheSavedCardOnce_EvenWhenTheyRunTogether()
    {
        var (subscribed, packageCredits, priceCents) = await BuyerWithSavedCardAsync(FakeStripe.SucceedingCard);
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);

        const int runs = 6;
        var responses = await Task.WhenAll(Enumerable.Range(0, runs).Select(i => subscribed.KeyClient.RunAsync(subscribed.Config, $"run {i}")));
        foreach (var response in responses)
        {
            await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        }

        var charges = ChargesOf(buyer);
        Assert.Single(charges.Select(c => c.IdempotencyKey).Distinct());
        var charge = charges[0];
        Assert.Equal("true", charge.Form["off_session"]);
        Assert.Equal("true", charge.Form["confirm"]);
        Assert.Equal(FakeStripe.Customer, charge.Form["customer"]);
        Assert.Equal(FakeStripe.SucceedingCard, charge.Form["payment_method"]);
        Assert.Equal(priceCents.ToString(System.Globalization.CultureInfo.InvariantCulture), charge.Form["amount"]);

        var topUp = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("succeeded", topUp.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, topUp.GetProperty("receipt").ValueKind);
        Assert.Equal(charge.Form["metadata[payment_id]"], topUp.GetProperty("uuid").GetGuid().ToString());
        var spent = (long)runs * PerRun;
        Assert.Equal(before - spent + packageCredits, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());

        // Back above the threshold: the next run buys nothing.
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "after"), HttpStatusCode.OK);
        Assert.Single(ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct());
    }

    [Theory]
    [InlineData(FakeStripe.DecliningCard, "declined")]
    [InlineData(FakeStripe.AuthenticationRequiredCard, "authentication")]
    public async Task ARefusedCard_SwitchesAutoTopUpOff_SaysWhy_AndTellsTheOwners(string card, string reasonMentions)
    {
        var (subscribed, _, _) = await BuyerWithSavedCardAsync(card);
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses"), HttpStatusCode.OK);

        var topUp = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("failed", topUp.GetProperty("status").GetString());
        Assert.Contains(reasonMentions, topUp.GetProperty("failure_reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(JsonValueKind.Null, topUp.GetProperty("receipt").ValueKind);
        Assert.Equal(before - PerRun, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());

        var settings = await SettingsAsync(buyer);
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("auto_top_up_package_uuid").ValueKind);
        Assert.Contains(reasonMentions, settings.GetProperty("auto_top_up_failure_reason").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Auto top-up was switched off", await buyer.Client.GetStringAsync("/credits"), StringComparison.Ordinal);

        var operatorClient = await app.OperatorAsync();
        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=auto_top_up.disabled&organization={buyer.OrganizationId}"));
        Assert.Single(audit.GetProperty("items").EnumerateArray());
        var (mail, events) = await NoticesAsync(buyer);
        Assert.Contains(reasonMentions, Assert.Single(mail), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(topUp.GetProperty("uuid").GetGuid(), JsonDocument.Parse(Assert.Single(events)).RootElement.GetProperty("payment").GetGuid());

        // Off now: more runs under the threshold charge nothing more.
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still under"), HttpStatusCode.OK);
        Assert.Single(ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct());

        // Switched on again, the next crossing tries the card once more (and clears the old reason).
        var again = await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/",
            new { auto_top_up_package_uuid = await buyer.PackageIdAsync("Starter"), auto_top_up_threshold = before }));
        Assert.Equal(JsonValueKind.Null, again.GetProperty("auto_top_up_failure_reason").ValueKind);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "tries again"), HttpStatusCode.OK);
        Assert.Equal(2, ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task AChargeStillProcessing_IsCreditedByItsWebhook_OnceHoweverOftenItArrives()
    {
        var (subscribed, packageCredits, _) = await BuyerWithSavedCardAsync(FakeStripe.ProcessingBankAccount);
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses while pending"), HttpStatusCode.OK);
        var pending = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("pending", pending.GetProperty("status").GetString());
        Assert.Single(ChargesOf(buyer).Select(c => c.IdempotencyKey).Distinct());
        var afterRuns = before - 2 * PerRun;
        Assert.Equal(afterRuns, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());

        var paymentId = pending.GetProperty("uuid").GetGuid();
        Assert.Equal(paymentId.ToString(), ChargesOf(buyer).Single().Form["metadata[payment_id]"]);
        var intentId = await ExternalIdAsync(paymentId);
        Assert.NotNull(intentId);
        var succeeded = StripeWebhooks.Event("payment_intent.succeeded", StripeWebhooks.PaymentIntent(intentId, paymentId, "succeeded"));
        Assert.False((await StripeWebhooks.DeliverAsync(app, succeeded)).GetProperty("duplicate").GetBoolean());
        Assert.True((await StripeWebhooks.DeliverAsync(app, succeeded)).GetProperty("duplicate").GetBoolean());
        // The same payment reported again under another event id (Stripe resends, or a second endpoint) changes nothing either.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("payment_intent.succeeded", StripeWebhooks.PaymentIntent(intentId, paymentId, "succeeded")));
        // A late failure report for a payment that succeeded switches nothing off.
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("payment_intent.payment_failed", StripeWebhooks.PaymentIntent(intentId, paymentId, "requires_payment_method", "card_declined")));

        var paid = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("succeeded", paid.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.String, paid.GetProperty("receipt").ValueKind);
        Assert.Equal(afterRuns + packageCredits, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());
        Assert.NotEqual(JsonValueKind.Null, (await SettingsAsync(buyer)).GetProperty("auto_top_up_package_uuid").ValueKind);
    }

    [Fact]
    public async Task AChargeThatFailsLater_IsReportedByItsWebhook_AndSwitchesAutoTopUpOff()
    {
        var (subscribed, _, _) = await BuyerWithSavedCardAsync(FakeStripe.ProcessingBankAccount);
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses"), HttpStatusCode.OK);
        var paymentId = Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("uuid").GetGuid();
        var intentId = await ExternalIdAsync(paymentId);

        var failed = StripeWebhooks.Event("payment_intent.payment_failed", StripeWebhooks.PaymentIntent(intentId!, paymentId, "requires_payment_method", "card_declined", "insufficient_funds"));
        await StripeWebhooks.DeliverAsync(app, failed);
        await StripeWebhooks.DeliverAsync(app, failed);

        var topUp = Assert.Single(await AutoTopUpsAsync(buyer));
        Assert.Equal("failed", topUp.GetProperty("status").GetString());
        Assert.Contains("insufficient funds", topUp.GetProperty("failure_reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await SettingsAsync(buyer)).GetProperty("auto_top_up_package_uuid").ValueKind);
        var (mail, events) = await NoticesAsync(buyer);
        Assert.Single(mail);
        Assert.Single(events);
    }

    [Fact]
    public async Task AChargeStripeDidNotAnswer_IsRetriedByALaterRun_WithTheSameIdempotencyKey()
    {
        var (subscribed, packageCredits, _) = await BuyerWithSavedCardAsync(FakeStripe.SucceedingCard);
        var buyer = subscribed.Buyer;
        var before = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await EnableAsync(buyer, threshold: before - 5);

        app.Stripe.FailWith = 500;
        try
        {
            await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "crosses during an outage"), HttpStatusCode.OK);
        }
        finally
        {
            app.Stripe.FailWith = null;
        }
        Assert.Equal("pending", Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("status").GetString());
        // While the first attempt may still be in flight, another run does not call Stripe again.
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "right after"), HttpStatusCode.OK);
        Assert.Single(ChargesOf(buyer));

        app.Clock.Advance(TimeSpan.FromMinutes(2));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "later"), HttpStatusCode.OK);

        var charges = ChargesOf(buyer);
        Assert.Equal(2, charges.Count);
        Assert.Single(charges.Select(c => c.IdempotencyKey).Distinct());
        Assert.Equal("succeeded", Assert.Single(await AutoTopUpsAsync(buyer)).GetProperty("status").GetString());
        Assert.Equal(before - 3 * PerRun + packageCredits, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    /// <summary>A Pro buyer (through Stripe) of an agent costing a fixed price per run, whose package Checkout saved <paramref name="paymentMethod"/>.</summary>
    async Task<(Subscribed Subscribed, long PackageCredits, long PriceCents)> BuyerWithSavedCardAsync(string paymentMethod)
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = PerRun }));
        await subscribed.Buyer.SubscribeThroughStripeAsync("pro");
        await subscribed.Buyer.BuyThroughStripeAsync("Starter", app.Stripe, paymentMethod);
        var starter = await subscribed.Buyer.PackageIdAsync("Starter");
        var package = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/packages/"))).EnumerateArray().Single(p => p.GetProperty("uuid").GetGuid() == starter);
        return (subscribed, package.GetProperty("credits").GetInt64() + package.GetProperty("bonus_credits").GetInt64(), package.GetProperty("price_cents").GetInt64());
    }

    static async Task EnableAsync(TestUser buyer, long threshold) =>
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { auto_top_up_package_uuid = await buyer.PackageIdAsync("Starter"), auto_top_up_threshold = threshold }));

    static async Task<JsonElement> SettingsAsync(TestUser user) => await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/settings/"));

    static async Task<List<JsonElement>> AutoTopUpsAsync(TestUser user) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/payments/?limit=100"))).GetProperty("items").EnumerateArray()
            .Where(p => p.GetProperty("purpose").GetString() == "auto_top_up").ToList();

    List<StripeRequest> ChargesOf(TestUser user) => app.Stripe.OffSessionCharges().Where(c => c.Form["metadata[organization_id]"] == user.OrganizationId.ToString()).ToList();

    Task<string?> ExternalIdAsync(Guid paymentId) => app.InScopeAsync(null, async services =>
        await services.GetRequiredService<AppDbContext>().Payments.Where(p => p.Id == paymentId).Select(p => p.ExternalPaymentId).FirstAsync());

    /// <summary>The owners' emails about a failed top-up and the <c>credits.auto_top_up_failed</c> events' payloads.</summary>
    async Task<(List<string> Mail, List<string> Events)> NoticesAsync(TestUser buyer)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var mail = await db.OutboxEmails.Where(m => m.Recipient == buyer.Email && m.Subject == "Your automatic top-up failed").Select(m => m.Body).ToListAsync();
        var events = await db.OutboxEvents.Where(e => e.OrganizationId == buyer.OrganizationId && e.Type == "credits.auto_top_up_failed").Select(e => e.Payload).ToListAsync();
        events.ForEach(payload => ListedPayloadFields.AssertListed("credits.auto_top_up_failed", payload));
        return (mail, events);
    }
}
