using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// A provider may keep its prompts from buyers' own model endpoints (ADR-138): the buyer can no longer set one, and one
/// set before answers no more of the agent's calls; a buyer's key for the platform's endpoint is unaffected.
/// </summary>
public class BuyerModelEndpointTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task AProviderWhoKeepsItsPromptsPrivate_StopsBuyersOwnEndpoints_ButNotTheirKeys()
    {
        var subscribed = await app.SubscribedAsync();
        var seller = subscribed.Agent.Seller;
        var config = $"/api/customer-agent-configs/{subscribed.Config}/";
        // Allowed by default: the buyer points the agent at an endpoint of their own.
        Assert.True((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{subscribed.Agent.AgentId}/"))).GetProperty("buyer_model_endpoints").GetBoolean());
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync(config,
            new { model = new { base_url = "https://models.buyer.example/v1", model = "their-model", api_key = "their-secret-key" } }), HttpStatusCode.OK);

        // The provider turns it off on the agent's page.
        var page = $"/provider/agents/{subscribed.Agent.AgentId}";
        Assert.Contains("data-buyer-model-endpoints=\"on\"", await seller.Client.HtmlAsync(page), StringComparison.Ordinal);
        PageForms.AssertRedirect(await seller.Client.SubmitAsync(page, "buyer-models", new() { ["buyer_models"] = "off" }), $"{page}?done=prompts-private");
        Assert.Contains("data-buyer-model-endpoints=\"off\"", await seller.Client.HtmlAsync(page), StringComparison.Ordinal);
        Assert.False((await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{subscribed.Agent.AgentId}/"))).GetProperty("buyer_model_endpoints").GetBoolean());

        // The endpoint set before gets none of the agent's calls: the agent's own model answers.
        var answered = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Who answers this?"));
        Assert.Equal("I am the default answer.", answered.GetProperty("output").GetString());
        Assert.Equal("Bearer operator-test-key", app.Model.Requests.Last(r => r.LastUser?.Contains("Who answers this?") == true).Authorization);

        // The buyer is told why, and cannot set an endpoint again; a key for the platform's endpoint is still accepted.
        Assert.False((await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync(config))).GetProperty("model").GetProperty("own_endpoint_allowed").GetBoolean());
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PatchAsJsonAsync(config, new { model = new { base_url = "https://models.buyer.example/v2" } }),
            HttpStatusCode.Conflict, "own_model_endpoint_not_allowed");
        var advanced = $"/my-agents/{subscribed.Config}/configure/advanced";
        Assert.Contains("keeps its prompts private", await subscribed.Buyer.Client.HtmlAsync(advanced), StringComparison.Ordinal);

        // Saving the Advanced tab (its base URL box is disabled, so a browser sends none) drops the endpoint and the key
        // that was its own: that key must never reach the platform's endpoint.
        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(advanced, "model", new() { ["model_name"] = "", ["model_api_key"] = "" }), $"{advanced}?saved=model");
        var dropped = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync(config))).GetProperty("model");
        Assert.Equal((null, false), (dropped.GetProperty("base_url").GetString(), dropped.GetProperty("has_api_key").GetBoolean()));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Whose key now?"), HttpStatusCode.OK);
        Assert.Equal("Bearer operator-test-key", app.Model.Requests.Last(r => r.LastUser?.Contains("Whose key now?") == true).Authorization);

        // A key for the platform's endpoint is the buyer's to use.
        var keyOnly = await Http.ReadJsonAsync(await subscribed.Buyer.Client.PatchAsJsonAsync(config, new { model = new { base_url = "", api_key = "key-for-the-platform" } }));
        Assert.True(keyOnly.GetProperty("model").GetProperty("has_api_key").GetBoolean());
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Paid with my key?"), HttpStatusCode.OK);
        Assert.Equal("Bearer key-for-the-platform", app.Model.Requests.Last(r => r.LastUser?.Contains("Paid with my key?") == true).Authorization);
    }
}
