using System.Net;
using AgentMarket.Payments.Stripe;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>Only Stripe can move credits through the webhook: every signature failure is a 400 with no effect.</summary>
public class StripeSignatureTests(StripeApp app) : IClassFixture<StripeApp>
{
    [Fact]
    public async Task EverySignatureFailure_Returns400InvalidSignature_AndGrantsNothing()
    {
        var (user, payment, before) = await PendingPackagePaymentAsync();
        var payload = StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: StripeWebhooks.NewId("pi")));
        var now = app.Clock.GetUtcNow();
        var valid = StripeWebhooks.Signature(payload, now);
        var v1 = valid.Split(",v1=")[1];
        var cases = new (string What, string Body, string? Header)[]
        {
            ("tampered body", payload.Replace("\"paid\"", "\"paid\" ", StringComparison.Ordinal), valid),
            ("signed with another secret", payload, StripeWebhooks.Signature(payload, now, "whsec_someone_else")),
            // Ten seconds past the 300 s tolerance: the header holds whole seconds and the clock keeps running while the
            // cases before run, so one second past it could land back inside.
            ("timestamp older than the tolerance", payload, StripeWebhooks.Signature(payload, now.AddSeconds(-310))),
            ("timestamp further ahead than the tolerance", payload, StripeWebhooks.Signature(payload, now.AddSeconds(310))),
            ("timestamp changed after signing", payload, $"t={now.ToUnixTimeSeconds() + 1},v1={v1}"),
            ("no header", payload, null),
            ("empty header", payload, ""),
            ("not key=value pairs", payload, "garbage"),
            ("no timestamp", payload, $"v1={v1}"),
            ("no v1 signature", payload, $"t={now.ToUnixTimeSeconds()}"),
            ("only another scheme", payload, $"t={now.ToUnixTimeSeconds()},v0={v1}"),
            ("timestamp not a number", payload, $"t=soon,v1={v1}"),
            ("timestamp beyond the calendar", payload, $"t=99999999999999999,v1={v1}"),
            ("two timestamps", payload, $"t={now.ToUnixTimeSeconds()},t={now.ToUnixTimeSeconds()},v1={v1}"),
            ("signature not hex", payload, $"t={now.ToUnixTimeSeconds()},v1={new string('z', 64)}"),
            ("signature truncated", payload, $"t={now.ToUnixTimeSeconds()},v1={v1[..62]}"),
        };
        foreach (var (what, body, header) in cases)
        {
            var response = await StripeWebhooks.PostAsync(app, body, header);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest, "invalid_signature");
        }
        Assert.Equal("pending", (await user.PaymentAsync(payment)).GetProperty("status").GetString());
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        // While a secret is rolled Stripe sends several v1 signatures (and may add other schemes): one match suffices.
        var rolled = $"{valid},v1={new string('0', 64)},v0={v1}";
        await Http.AssertStatusAsync(await StripeWebhooks.PostAsync(app, payload, rolled), HttpStatusCode.OK);
        Assert.Equal(before + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task SignatureMadeByStripesOwnLibrary_IsAccepted_AndFulfils()
    {
        var (user, payment, before) = await PendingPackagePaymentAsync();
        var payload = StripeWebhooks.Event("checkout.session.completed", StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: StripeWebhooks.NewId("pi")));
        var header = await StripeWebhooks.SignatureFromStripeLibraryAsync(payload, app.Clock.GetUtcNow());
        Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", header);

        var tampered = await StripeWebhooks.PostAsync(app, payload.Replace(payment.ToString(), Guid.NewGuid().ToString(), StringComparison.Ordinal), header);
        await Http.AssertProblemAsync(tampered, HttpStatusCode.BadRequest, "invalid_signature");
        var wrongSecret = await StripeWebhooks.SignatureFromStripeLibraryAsync(payload, app.Clock.GetUtcNow(), "whsec_not_ours");
        await Http.AssertProblemAsync(await StripeWebhooks.PostAsync(app, payload, wrongSecret), HttpStatusCode.BadRequest, "invalid_signature");
        Assert.Equal(before, (await user.BalanceAsync()).GetProperty("balance").GetInt64());

        await Http.AssertStatusAsync(await StripeWebhooks.PostAsync(app, payload, header), HttpStatusCode.OK);
        Assert.Equal(before + 1_500, (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Verifier_AgreesWithStripesLibrary_OnNonAsciiPayloads()
    {
        var payload = "{\"id\":\"evt_1\",\"type\":\"ping\",\"data\":{\"object\":{\"name\":\"Zoë’s café ☕\"}}}";
        var at = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        var header = await StripeWebhooks.SignatureFromStripeLibraryAsync(payload, at);
        Assert.True(StripeSignature.IsValid(header, System.Text.Encoding.UTF8.GetBytes(payload), StripeApp.WebhookSecret, at.AddSeconds(10), TimeSpan.FromMinutes(5)));
        Assert.False(StripeSignature.IsValid(header, System.Text.Encoding.UTF8.GetBytes(payload), StripeApp.WebhookSecret, at.AddSeconds(400), TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task SignedPayload_ThatIsNotAnEvent_Returns400_AndUnknownEventTypes_AreAcknowledged()
    {
        var now = app.Clock.GetUtcNow();
        var notAnEvent = "{\"hello\":\"world\"}";
        await Http.AssertProblemAsync(await StripeWebhooks.PostAsync(app, notAnEvent, StripeWebhooks.Signature(notAnEvent, now)), HttpStatusCode.BadRequest, "malformed_json");
        var other = StripeWebhooks.Event("customer.created", new { id = "cus_test_1", @object = "customer" });
        await Http.AssertStatusAsync(await StripeWebhooks.PostAsync(app, other, StripeWebhooks.Signature(other, now)), HttpStatusCode.OK);
    }

    async Task<(TestUser User, Guid Payment, long Balance)> PendingPackagePaymentAsync()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var checkout = await user.StartCheckoutAsync(new { package_uuid = await user.PackageIdAsync("Starter") });
        return (user, checkout.GetProperty("checkout_uuid").GetGuid(), (await user.BalanceAsync()).GetProperty("balance").GetInt64());
    }
}
