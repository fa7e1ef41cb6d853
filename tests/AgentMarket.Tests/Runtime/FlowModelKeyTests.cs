using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Runtime;

/// <summary>
/// The gateway app with a second OpenAI-compatible server a flow may name as its own endpoint (on loopback, which the
/// operator's allow-list opens), beside the operator's endpoint.
/// </summary>
public class FlowModelKeyApp : GatewayApp
{
    public FakeOpenAiServer FlowEndpoint { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Flows:OutboundAllowList:0", "127.0.0.1/32")];

    public override async ValueTask InitializeAsync()
    {
        FlowEndpoint = await FakeOpenAiServer.StartAsync();
        FlowEndpoint.Otherwise(FakeReply.Say("I am the flow's own endpoint."));
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await FlowEndpoint.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// A key the flow carries goes only to the endpoint the flow names; without one, the run is on the operator's endpoint,
/// key and served model, and the flow's key (say an Anthropic one) never reaches the operator (ADR-155, ADR-140).
/// </summary>
public class FlowModelKeyTests(FlowModelKeyApp app) : IClassFixture<FlowModelKeyApp>
{
    [Fact]
    public async Task FlowKeyWithoutAnEndpoint_RunsOnTheOperatorsKeyAndServedModel_AndWithOneGoesOnlyThere()
    {
        var unserved = $"claude-{CatalogIntents.UniqueWord()}";
        var flowKey = $"sk-ant-{Guid.NewGuid():N}";

        var withoutEndpoint = await app.SubscribedAsync(await PublishAsync(unserved, flowKey, baseUrl: null));
        var operatorQuestion = $"No endpoint named {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await withoutEndpoint.KeyClient.RunAsync(withoutEndpoint.Config, operatorQuestion), HttpStatusCode.OK);
        var operatorCall = app.Model.Requests.Single(r => r.LastUser == operatorQuestion);
        Assert.Equal(("operator-default-model", "Bearer operator-test-key"), (operatorCall.Model, operatorCall.Authorization));

        var withEndpoint = await app.SubscribedAsync(await PublishAsync(unserved, flowKey, app.FlowEndpoint.BaseUrl.ToString()));
        var flowQuestion = $"Own endpoint named {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await withEndpoint.KeyClient.RunAsync(withEndpoint.Config, flowQuestion), HttpStatusCode.OK);
        var flowCall = app.FlowEndpoint.Requests.Single(r => r.LastUser == flowQuestion);
        Assert.Equal((unserved, $"Bearer {flowKey}"), (flowCall.Model, flowCall.Authorization));

        Assert.DoesNotContain(app.Model.Requests, r => r.Authorization.Contains(flowKey, StringComparison.Ordinal));
    }

    /// <summary>Basic Prompting whose model node names <paramref name="model"/>, carries <paramref name="apiKey"/> and names <paramref name="baseUrl"/>.</summary>
    async Task<PublishedAgent> PublishAsync(string model, string apiKey, string? baseUrl)
    {
        var flow = JsonNode.Parse(CatalogIntents.ExampleFlow("Basic Prompting.json"))!;
        var node = flow["data"]!["nodes"]!.AsArray().Single(n => n?["data"]?["type"]?.GetValue<string>() == "LanguageModelComponent")!;
        var template = node["data"]!["node"]!["template"]!;
        template["model"]!["value"] = new JsonArray(new JsonObject { ["name"] = model, ["provider"] = "Anthropic" });
        template["api_key"]!["value"] = apiKey;
        if (baseUrl is not null)
        {
            template["openai_api_base"] = new JsonObject { ["type"] = "str", ["value"] = baseUrl };
        }

        var (seller, handle) = await app.SellerAsync();
        var name = $"Flow key agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await Http.AssertStatusAsync(await seller.UploadFlowAsync(agentId, System.Text.Encoding.UTF8.GetBytes(flow.ToJsonString()), "flow-key.json"), HttpStatusCode.Created);
        var slug = $"flowkey-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }
}
