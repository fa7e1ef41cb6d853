using System.Net;
using System.Net.Http.Json;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Webhooks;

namespace AgentMarket.Tests.Webhooks;

/// <summary>Each event is produced where its change happens, addressed to the organization that should hear about it.</summary>
public class WebhookEventsTests(WebhooksGatewayApp app) : IClassFixture<WebhooksGatewayApp>
{
    [Fact]
    public async Task BuyerJourney_SendsOrderSubscriptionAndRunEvents()
    {
        var agent = await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync("Buyer");
        await buyer.CreateEndpointAsync(app.Receiver, "buyer", "order.created", "subscription.activated", "subscription.terminated", "run.completed", "run.failed");
        // Subscribed to nothing the journey produces: it must get nothing.
        await buyer.CreateEndpointAsync(app.Receiver, "buyer-quiet", "credits.low_balance");

        var config = await buyer.SubscribeAsync(agent);
        var (_, key) = await buyer.CreateKeyAsync(config);
        var keyClient = app.BearerClient(key);
        var run = await Http.ReadJsonAsync(await keyClient.RunAsync(config, "hello"));
        app.Model.When("make it fail", FakeReply.Fail(500));
        var failed = await keyClient.RunAsync(config, "make it fail");
        Assert.False(failed.IsSuccessStatusCode);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{config}"), HttpStatusCode.NoContent);

        var received = await app.Receiver.WaitForAsync("buyer", 5);
        var byType = received.ToDictionary(r => r.Type);
        Assert.Equal(["order.created", "run.completed", "run.failed", "subscription.activated", "subscription.terminated"], byType.Keys.Order().ToArray());
        Assert.Equal(config, byType["subscription.activated"].Data.GetProperty("config").GetGuid());
        Assert.Equal(config, byType["subscription.terminated"].Data.GetProperty("config").GetGuid());
        Assert.Equal(agent.ListingId, byType["order.created"].Data.GetProperty("listing").GetGuid());
        var completed = byType["run.completed"].Data;
        Assert.Equal(run.GetProperty("run_id").GetString(), completed.GetProperty("run").GetString());
        Assert.Equal(run.GetProperty("credits_charged").GetInt64(), completed.GetProperty("credits_charged").GetInt64());
        Assert.Equal("succeeded", completed.GetProperty("status").GetString());
        Assert.Equal("failed", byType["run.failed"].Data.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(byType["run.failed"].Data.GetProperty("error_code").GetString()));
        Assert.Empty(app.Receiver.At("buyer-quiet"));
    }

    [Fact]
    public async Task RunEvents_SayWhetherTheirTokensAreTheModelEndpointsOwn()
    {
        var buyer = await app.SignUpAsync("Buyer");
        await buyer.CreateEndpointAsync(app.Receiver, "usage-source", "run.completed", "run.failed");
        var config = await buyer.SubscribeAsync(await app.PromptAgentAsync());
        var (_, key) = await buyer.CreateKeyAsync(config);
        var keyClient = app.BearerClient(key);
        var word = CatalogIntents.UniqueWord();
        app.Model.When($"Uncounted {word}", new FakeReply { Text = "An answer nobody counted.", NoUsage = true });
        app.Model.When($"Failing {word}", FakeReply.Fail(500));

        var counted = await Http.ReadJsonAsync(await keyClient.RunAsync(config, $"Counted {word}"));
        var uncounted = await Http.ReadJsonAsync(await keyClient.RunAsync(config, $"Uncounted {word}"));
        Assert.False((await keyClient.RunAsync(config, $"Failing {word}")).IsSuccessStatusCode);

        var received = (await app.Receiver.WaitForAsync("usage-source", 3)).ToDictionary(r => r.Data.GetProperty("run").GetGuid(), r => r.Data);
        foreach (var run in new[] { counted, uncounted })
        {
            var data = received[run.GetProperty("run_id").GetGuid()];
            Assert.Equal(run.GetProperty("usage_source").GetString(), data.GetProperty("usage_source").GetString());
            Assert.True(data.GetProperty("input_tokens").GetInt64() > 0 && data.GetProperty("output_tokens").GetInt64() > 0, "the tokens charged are in the event");
        }
        Assert.Equal(("reported", "estimated"), (counted.GetProperty("usage_source").GetString(), uncounted.GetProperty("usage_source").GetString()));
        var failed = Assert.Single(received.Values, data => data.GetProperty("status").GetString() == "failed");
        Assert.Equal("reported", failed.GetProperty("usage_source").GetString());
    }

    [Fact]
    public async Task EveryDeliveredPayload_CarriesExactlyTheFieldsItsTypeLists()
    {
        // A seller publishes an agent (listing.published) and a buyer lives through the events of buying it: a plan,
        // a low balance, a run that answers and one that fails, a review, the agent stopping and running again, its
        // price going up and its provider moving to usage reports, and the end of the subscription.
        var (seller, handle) = await app.SellerAsync();
        var providerTypes = WebhookEventTypes.All.Where(t => t.Audience == WebhookAudience.Provider).Select(t => t.Name).ToArray();
        await seller.CreateEndpointAsync(app.Receiver, "fields-provider", providerTypes);
        var name = $"Documented agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await seller.ImportExampleAsync(agentId);
        var slug = $"documented-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        var agent = new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);

        var buyer = await app.SignUpAsync("Buyer");
        var buyerTypes = WebhookEventTypes.All.Where(t => t.Audience == WebhookAudience.Buyer).Select(t => t.Name).ToArray();
        await buyer.CreateEndpointAsync(app.Receiver, "fields-buyer", buyerTypes);
        await buyer.UpgradeAsync("plus");
        var available = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings", new { low_balance_threshold = available }));
        var config = await buyer.SubscribeAsync(agent);
        var (_, key) = await buyer.CreateKeyAsync(config);
        var keyClient = app.BearerClient(key);
        await Http.ReadJsonAsync(await keyClient.RunAsync(config, "hello"));
        var failing = $"Failing {CatalogIntents.UniqueWord()}";
        app.Model.When(failing, FakeReply.Fail(500));
        Assert.False((await keyClient.RunAsync(config, failing)).IsSuccessStatusCode);
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews", new { rating = 5, text = "Clear." }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await seller.Client.PostAsync($"/api/provider-agents/{agentId}/listing/pause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.Client.PostAsync($"/api/provider-agents/{agentId}/listing/unpause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agentId}/listing/",
            new { pricing = new { model = "fixed_credits", credits_per_run = 9 } }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agentId}/", new { reports_usage = true }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await buyer.Client.DeleteAsync($"/api/customer-agent-configs/{config}"), HttpStatusCode.NoContent);

        var received = (await app.Receiver.WaitForAsync("fields-buyer", 11)).Concat(await app.Receiver.WaitForAsync("fields-provider", 2)).ToList();
        foreach (var delivered in received)
        {
            ListedPayloadFields.AssertListed(delivered.Type, delivered.Data);
        }
        // The rest (subscription.past_due, credits.auto_top_up_failed and _paused, payout.paid) need a month to pass, a
        // card to fail or a payout: their own tests hold their payloads to the list.
        Assert.Equal(
            ["credits.low_balance", "credits.purchased", "listing.published", "order.created", "review.created", "run.completed", "run.failed",
                "subscription.activated", "subscription.agent_available", "subscription.agent_unavailable", "subscription.price_increase_scheduled",
                "subscription.terminated", "subscription.usage_reporting_scheduled"],
            received.Select(r => r.Type).Distinct().Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Credits_SendPurchasedAndLowBalance()
    {
        var agent = await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync("Buyer");
        await buyer.CreateEndpointAsync(app.Receiver, "credits", "credits.purchased", "credits.low_balance");
        await buyer.UpgradeAsync("plus");
        var purchased = Assert.Single(await app.Receiver.WaitForAsync("credits", 1));
        Assert.Equal("credits.purchased", purchased.Type);

        // Any charge now takes the balance below the alert threshold.
        var available = (await buyer.BalanceAsync()).GetProperty("available").GetInt64();
        await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync("/api/credits/settings", new { low_balance_threshold = available }));
        var config = await buyer.SubscribeAsync(agent);
        var (_, key) = await buyer.CreateKeyAsync(config);
        await Http.ReadJsonAsync(await app.BearerClient(key).RunAsync(config, "hello"));

        var low = (await app.Receiver.WaitForAsync("credits", 2)).Single(r => r.Type == "credits.low_balance").Data;
        Assert.Equal(available, low.GetProperty("threshold").GetInt64());
        Assert.True(low.GetProperty("available").GetInt64() < available);
    }

    [Fact]
    public async Task ProviderJourney_SendsListingPublishedAndReviewCreated_ToTheProviderOnly()
    {
        var (seller, _) = await app.SellerAsync();
        await seller.CreateEndpointAsync(app.Receiver, "provider", "listing.published", "review.created");
        var agentId = await seller.CreateAgentAsync($"Reviewed agent {CatalogIntents.UniqueWord()}");
        await seller.ImportExampleAsync(agentId);
        var slug = $"reviewed-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        var listingId = listing.GetProperty("uuid").GetGuid();

        var published = Assert.Single(await app.Receiver.WaitForAsync("provider", 1));
        Assert.Equal("listing.published", published.Type);
        Assert.Equal(listingId, published.Data.GetProperty("listing").GetGuid());
        Assert.Equal(slug, published.Data.GetProperty("slug").GetString());

        // A buyer who ran the agent reviews it; the buyer's own endpoint hears nothing of it.
        var buyer = await app.SignUpAsync("Reviewer");
        await buyer.CreateEndpointAsync(app.Receiver, "reviewer", "review.created", "listing.published");
        var config = await buyer.SubscribeAsync(new PublishedAgent(seller, agentId, listingId, slug, "Reviewed agent", ""));
        var (_, key) = await buyer.CreateKeyAsync(config);
        await Http.ReadJsonAsync(await app.BearerClient(key).RunAsync(config, "hello"));
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{listingId}/reviews", new { rating = 4, text = "Useful." }), HttpStatusCode.Created);

        var both = await app.Receiver.WaitForAsync("provider", 2);
        var review = both.Single(r => r.Type == "review.created").Data;
        Assert.Equal(listingId, review.GetProperty("listing").GetGuid());
        Assert.Equal(4, review.GetProperty("rating").GetInt32());
        Assert.Equal("Useful.", review.GetProperty("text").GetString());
        Assert.Empty(app.Receiver.At("reviewer"));
    }
}
