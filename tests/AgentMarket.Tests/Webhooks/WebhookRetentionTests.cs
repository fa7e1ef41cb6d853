using System.Net;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Webhooks;

/// <summary>The delivery log is kept for the retention period, then deleted with its event.</summary>
public class WebhookRetentionTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    [Fact]
    public async Task SettledDeliveries_AreDeletedAfterTheRetentionPeriod_PendingOnesAreKept()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "kept", "order.created");
        var settled = await owner.Client.SendTestEventAsync(endpoint.Id);
        await owner.Client.DeliveryAfterAsync(settled, attempts: 1, state: "succeeded");
        app.Receiver.Always("kept", new WebhookReceiver.Answer(500));
        var failing = await owner.Client.SendTestEventAsync(endpoint.Id);
        await owner.Client.DeliveryAfterAsync(failing, attempts: 1, state: "pending");

        // 30 days is the default retention; the failing delivery is still being retried, so it stays.
        app.Clock.Advance(TimeSpan.FromDays(31));
        await app.DispatchAsync();
        var client = await app.SignInAsync(owner); // the session cookie expired meanwhile
        await Http.AssertProblemAsync(await client.GetAsync($"/api/webhook-deliveries/{settled}"), HttpStatusCode.NotFound, "not_found");
        await client.DeliveryAsync(failing);
    }
}
