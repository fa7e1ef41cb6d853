using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Webhooks;

/// <summary>
/// The outbox across processes: an event written by a process that stops before sending it is delivered once by the next;
/// two dispatchers racing over the same events send each one once; the guard refuses private receivers at delivery too.
/// </summary>
public sealed class WebhookOutboxTests : IAsyncLifetime
{
    static readonly string[] OrderCreated = ["order.created"];

    TestDatabase _database = default!;
    WebhookReceiver _receiver = default!;

    public async ValueTask InitializeAsync()
    {
        _database = TestDatabase.Create();
        _receiver = await WebhookReceiver.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task EventWrittenBeforeAStop_IsDeliveredOnceByTheNextProcess()
    {
        string[] expected;
        TestUser buyer;
        await using (var stopped = await WebhooksProcess.StartAsync(_database, _receiver, dispatcher: false))
        {
            var agent = await stopped.PublishedAgentAsync();
            buyer = await stopped.SignUpAsync("Buyer");
            await buyer.CreateEndpointAsync(_receiver, "restart", "order.created", "subscription.activated");
            await buyer.SubscribeAsync(agent);
            expected = ["order.created", "subscription.activated"];
        }
        Assert.Empty(_receiver.At("restart"));

        await using var next = await WebhooksProcess.StartAsync(_database, _receiver);
        var received = await _receiver.WaitForAsync("restart", expected.Length);
        // More passes find nothing left to send.
        for (var pass = 0; pass < 3; pass++)
        {
            await next.DispatchAsync();
        }
        Assert.Equal(expected, _receiver.At("restart").Select(r => r.Type).Order().ToArray());
        Assert.Equal(expected.Length, received.Select(r => r.Id).Distinct().Count());
        // Addressed to the buyer's organization: the subscription it names is the buyer's own.
        var client = await next.SignInAsync(buyer);
        await Http.ReadJsonAsync(await client.GetAsync($"/api/customer-agent-configs/{received[0].Data.GetProperty("config").GetGuid()}"));
    }

    [Fact]
    public async Task TwoDispatchersRacing_SendEachEventToEachEndpointOnce()
    {
        var endpoints = new List<(TestUser Owner, CreatedEndpoint Endpoint)>();
        var testEvents = 0;
        await using (var writer = await WebhooksProcess.StartAsync(_database, _receiver, dispatcher: false))
        {
            var agent = await writer.PublishedAgentAsync();
            for (var i = 0; i < 4; i++)
            {
                var buyer = await writer.SignUpAsync($"Buyer {i}");
                var endpoint = await buyer.CreateEndpointAsync(_receiver, $"race-{i}", "order.created", "subscription.activated", "subscription.terminated");
                var config = await buyer.SubscribeAsync(agent);
                await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{config}"), HttpStatusCode.NoContent);
                for (var t = 0; t < 3; t++)
                {
                    await buyer.Client.SendTestEventAsync(endpoint.Id);
                    testEvents++;
                }
                endpoints.Add((buyer, endpoint));
            }
        }
        var expected = endpoints.Count * 3 + testEvents;

        await using var first = await WebhooksProcess.StartAsync(_database, _receiver);
        await using var second = await WebhooksProcess.StartAsync(_database, _receiver);
        // Besides both background loops, passes of both processes run side by side until everything arrived.
        var racing = Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            while (_receiver.Received.Count(r => r.Path.StartsWith("/race-", StringComparison.Ordinal)) < expected)
            {
                await (i % 2 == 0 ? first : second).DispatchAsync();
            }
        }));
        await Task.WhenAll(racing).WaitAsync(TimeSpan.FromSeconds(60));
        for (var pass = 0; pass < 3; pass++)
        {
            await Task.WhenAll(first.DispatchAsync(), second.DispatchAsync());
        }

        var received = _receiver.Received.Where(r => r.Path.StartsWith("/race-", StringComparison.Ordinal)).ToList();
        Assert.Equal(expected, received.Count);
        Assert.Equal(expected, received.Select(r => (r.Path, r.Id)).Distinct().Count());
        foreach (var (_, endpoint) in endpoints)
        {
            var types = _receiver.At(endpoint.Path).Select(r => r.Type).Order().ToArray();
            Assert.Equal(["order.created", "subscription.activated", "subscription.terminated", "webhook.test", "webhook.test", "webhook.test"], types);
        }
    }

    [Fact]
    public async Task ReceiverTheOperatorNoLongerAllows_IsRefusedAtDelivery()
    {
        TestUser owner;
        CreatedEndpoint endpoint;
        await using (var allowed = await WebhooksProcess.StartAsync(_database, _receiver, dispatcher: false))
        {
            owner = await allowed.SignUpAsync();
            endpoint = await owner.CreateEndpointAsync(_receiver, "guarded", "order.created");
        }

        // The operator took loopback off the allow-list: the URL saved earlier now points at a refused address.
        await using var guarded = await WebhooksProcess.StartAsync(_database, _receiver, allowLoopback: false);
        var client = await guarded.SignInAsync(owner);
        var delivery = await client.SendTestEventAsync(endpoint.Id);
        var refused = await client.DeliveryAfterAsync(delivery, attempts: 1);
        Assert.Equal("pending", refused.GetProperty("state").GetString());
        Assert.Contains("outbound guard", refused.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", refused.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Empty(_receiver.At("guarded"));

        // And a new endpoint at that address is refused when it is created.
        var again = await client.PostAsJsonAsync("/api/webhook-endpoints/", new { url = _receiver.Url("guarded"), events = OrderCreated });
        await Http.AssertProblemAsync(again, HttpStatusCode.BadRequest, "webhook_url_not_allowed");
    }
}
