using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Payments;

/// <summary>A checkout's Idempotency-Key: concurrent requests share one checkout, and a replay after payment opens none.</summary>
public class CheckoutIdempotencyTests(StripeApp app) : IClassFixture<StripeApp>
{
    static Task<HttpResponseMessage> StartAsync(TestUser user, object purchase, string key)
    {
        var request = Http.Request(HttpMethod.Post, "/api/credits/purchase/", json: purchase);
        request.Headers.Add("Idempotency-Key", key);
        return user.Client.SendAsync(request);
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneIdempotencyKey_AllAnswerTheSameCheckout()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var package = await user.PackageIdAsync("Starter");
        for (var round = 0; round < 3; round++)
        {
            var key = Guid.NewGuid().ToString();
            var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(() => StartAsync(user, new { package_uuid = package }, key))));
            var checkouts = new List<Guid>();
            foreach (var response in responses)
            {
                checkouts.Add((await Http.ReadJsonAsync(response, HttpStatusCode.Created)).GetProperty("checkout_uuid").GetGuid());
            }
            Assert.Single(checkouts.Distinct());
        }
    }

    [Fact]
    public async Task ReplayingTheIdempotencyKeyOfAPaidCheckout_AnswersItsStatus_AndOpensNoSession()
    {
        var user = await app.SignUpAsync();
        await user.SubscribeThroughStripeAsync("plus");
        var key = Guid.NewGuid().ToString();
        var purchase = new { package_uuid = await user.PackageIdAsync("Starter") };
        var payment = (await Http.ReadJsonAsync(await StartAsync(user, purchase, key), HttpStatusCode.Created)).GetProperty("checkout_uuid").GetGuid();
        await StripeWebhooks.DeliverAsync(app, StripeWebhooks.Event("checkout.session.completed",
            StripeWebhooks.CheckoutSession(payment, "payment", paymentIntent: StripeWebhooks.NewId("pi"))));
        int Sessions() => app.Stripe.CheckoutSessions().Count(s => s.Form["client_reference_id"] == payment.ToString());
        var sessions = Sessions();

        var replay = await Http.AssertProblemAsync(await StartAsync(user, purchase, key), HttpStatusCode.Conflict, "checkout_closed");
        Assert.Equal((payment, "succeeded"), (replay.GetProperty("checkout_uuid").GetGuid(), replay.GetProperty("payment_status").GetString()));
        Assert.Equal(sessions, Sessions());
        // Another purchase under the same key is still a conflict of its own.
        await Http.AssertProblemAsync(await StartAsync(user, new { package_uuid = await user.PackageIdAsync("Power") }, key), HttpStatusCode.Conflict, "idempotency_conflict");
    }
}
