using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>The gateway app whose operator endpoint serves one model besides its default (<c>Llm:Models</c>).</summary>
public sealed class OperatorModelsApp : GatewayApp
{
    public const string DefaultModel = "operator-default-model";
    public const string ListedModel = "operator-listed-model";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        base.ExtraSettings().Append(new("Llm:Models:0", ListedModel));
}

/// <summary>
/// The operator decides which models its key pays for (ADR-140): a flow naming another model runs on the operator's
/// default one; the buyer's key keeps the model the flow names (a flow's own key: Runtime/FlowModelKeyTests).
/// </summary>
public class OperatorModelTests(OperatorModelsApp app) : IClassFixture<OperatorModelsApp>
{
    [Fact]
    public async Task OperatorsKey_KeepsAListedModel_AndReplacesAnUnlistedOneWithTheDefault()
    {
        var listed = await app.SubscribedAsync(await PublishAsync(OperatorModelsApp.ListedModel));
        var listedQuestion = $"Listed {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await listed.KeyClient.RunAsync(listed.Config, listedQuestion), HttpStatusCode.OK);
        var listedCall = app.Model.Requests.Last(r => r.LastUser == listedQuestion);
        Assert.Equal((OperatorModelsApp.ListedModel, "Bearer operator-test-key"), (listedCall.Model, listedCall.Authorization));

        var unlisted = await app.SubscribedAsync(await PublishAsync($"unlisted-{CatalogIntents.UniqueWord()}"));
        var unlistedQuestion = $"Unlisted {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await unlisted.KeyClient.RunAsync(unlisted.Config, unlistedQuestion), HttpStatusCode.OK);
        var unlistedCall = app.Model.Requests.Last(r => r.LastUser == unlistedQuestion);
        Assert.Equal((OperatorModelsApp.DefaultModel, "Bearer operator-test-key"), (unlistedCall.Model, unlistedCall.Authorization));
    }

    [Fact]
    public async Task TheAnswersSource_NamesTheModelThatAnswered_NotTheOneTheFlowNames()
    {
        var unlisted = $"unlisted-{CatalogIntents.UniqueWord()}";
        var subscribed = await app.SubscribedAsync(await PublishAsync(unlisted));

        var response = await subscribed.KeyClient.SendAsync(Http.Request(HttpMethod.Post, $"/api/v1/run/{subscribed.Config}",
            json: new { input_value = $"Who answers {CatalogIntents.UniqueWord()}?", input_type = "chat", output_type = "chat" }));

        var message = (await Http.ReadJsonAsync(response)).GetProperty("outputs")[0].GetProperty("outputs")[0].GetProperty("results").GetProperty("message");
        Assert.Equal(OperatorModelsApp.DefaultModel, message.GetProperty("properties").GetProperty("source").GetProperty("source").GetString());
    }

    [Fact]
    public async Task UnlistedModel_IsKept_WhenTheBuyersKeyPays()
    {
        var unlisted = $"unlisted-{CatalogIntents.UniqueWord()}";
        var subscribed = await app.SubscribedAsync(await PublishAsync(unlisted));
        var operatorQuestion = $"On the operator's key {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, operatorQuestion), HttpStatusCode.OK);
        Assert.Equal(OperatorModelsApp.DefaultModel, app.Model.Requests.Last(r => r.LastUser == operatorQuestion).Model);

        // The buyer brings a key for the operator's endpoint: the buyer pays, the flow's model stays.
        var buyerKey = $"buyer-key-{CatalogIntents.UniqueWord()}";
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { api_key = buyerKey } }), HttpStatusCode.OK);
        var buyerQuestion = $"Paid by the buyer {CatalogIntents.UniqueWord()}?";
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, buyerQuestion), HttpStatusCode.OK);
        var buyerCall = app.Model.Requests.Last(r => r.LastUser == buyerQuestion);
        Assert.Equal((unlisted, $"Bearer {buyerKey}"), (buyerCall.Model, buyerCall.Authorization));
    }

    [Fact]
    public async Task ImportPage_TellsTheSellerWhichModelReplacesOneNotServed()
    {
        var unlisted = $"unlisted-{CatalogIntents.UniqueWord()}";
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var replaced = await ImportedPageAsync(seller, agent, unlisted);
        Assert.Contains("data-replaced-models", replaced, StringComparison.Ordinal);
        var note = replaced[replaced.IndexOf("data-replaced-models", StringComparison.Ordinal)..];
        Assert.Contains(OperatorModelsApp.DefaultModel, note, StringComparison.Ordinal);
        Assert.Contains(unlisted, note, StringComparison.Ordinal);

        Assert.DoesNotContain("data-replaced-models", await ImportedPageAsync(seller, agent, OperatorModelsApp.ListedModel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FlowApi_TellsTheSellerWhichModelReplacesOneNotServed_InEveryReport()
    {
        var unlisted = $"unlisted-{CatalogIntents.UniqueWord()}";
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();

        var validated = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, FlowNaming(unlisted), "named.json", action: "validate_flow"));
        var imported = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, FlowNaming(unlisted), "named.json"), HttpStatusCode.Created);
        var version = imported.GetProperty("version").GetProperty("uuid").GetGuid();
        var stored = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/{version}/report"));
        foreach (var report in new[] { validated, imported.GetProperty("report"), stored })
        {
            var replaced = Assert.Single(report.GetProperty("replaced_models").EnumerateArray());
            Assert.Equal((unlisted, OperatorModelsApp.DefaultModel), (replaced.GetProperty("model").GetString(), replaced.GetProperty("served_model").GetString()));
            Assert.StartsWith("LanguageModelComponent-", replaced.GetProperty("node_id").GetString(), StringComparison.Ordinal);
        }

        var served = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, FlowNaming(OperatorModelsApp.ListedModel), "named.json", action: "validate_flow"));
        Assert.Empty(served.GetProperty("replaced_models").EnumerateArray());
    }

    [Fact]
    public async Task AVersionsStoredReport_IsAnsweredAsStored_WithTheReplacedModelsAdded()
    {
        var unlisted = $"unlisted-{CatalogIntents.UniqueWord()}";
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var imported = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, FlowNaming(unlisted), "named.json"), HttpStatusCode.Created);
        var version = imported.GetProperty("version").GetProperty("uuid").GetGuid();
        // A report an earlier release wrote: a field this one does not know, and none of those it now requires.
        var stored = $$"""{"flow_name":"Old","written_by":"an earlier release","models":[{"node_id":"LanguageModelComponent-old","model":"{{unlisted}}"}]}""";
        await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AgentVersions.Where(v => v.Id == version)
            .ExecuteUpdateAsync(u => u.SetProperty(v => v.ReportJson, stored)));

        var report = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/versions/{version}/report"));

        Assert.Equal("an earlier release", report.GetProperty("written_by").GetString());
        var replaced = Assert.Single(report.GetProperty("replaced_models").EnumerateArray());
        Assert.Equal(("LanguageModelComponent-old", unlisted), (replaced.GetProperty("node_id").GetString(), replaced.GetProperty("model").GetString()));
    }

    static async Task<string> ImportedPageAsync(TestUser seller, Guid agent, string model)
    {
        var imported = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, FlowNaming(model), "named.json"), HttpStatusCode.Created);
        return await seller.Client.HtmlAsync($"/provider/agents/{agent}/import?version={imported.GetProperty("version").GetProperty("uuid").GetGuid()}");
    }

    /// <summary>Basic Prompting published with its model node naming <paramref name="model"/>.</summary>
    async Task<PublishedAgent> PublishAsync(string model)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Model agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await Http.AssertStatusAsync(await seller.UploadFlowAsync(agentId, FlowNaming(model), "named.json"), HttpStatusCode.Created);
        var slug = $"model-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>Basic Prompting whose language model node names <paramref name="model"/>, as a Langflow export names one by habit.</summary>
    static byte[] FlowNaming(string model)
    {
        var flow = JsonNode.Parse(CatalogIntents.ExampleFlow("Basic Prompting.json"))!;
        var node = flow["data"]!["nodes"]!.AsArray().Single(n => n?["data"]?["type"]?.GetValue<string>() == "LanguageModelComponent")!;
        var template = node["data"]!["node"]!["template"]!;
        template["model"]!["value"] = new JsonArray(new JsonObject { ["name"] = model, ["provider"] = "OpenAI" });
        return System.Text.Encoding.UTF8.GetBytes(flow.ToJsonString());
    }
}
