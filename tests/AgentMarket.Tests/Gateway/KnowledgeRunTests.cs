using System.Net;
using System.Net.Http.Json;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Knowledge;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// Runs read knowledge (SPEC §5, §7): the provider's own knowledge base always, the subscription's only when the provider
/// declares a knowledge-base field, and never another organization's.
/// </summary>
public class KnowledgeRunTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    const string ProviderFact = "Dogs need walks twice a day.";
    const string BuyerFact = "Our staff walk the shop's dogs at noon.";

    [Fact]
    public async Task Run_AnswersFromTheProvidersKnowledge_AndTheSubscriptionsWhenTheAgentDeclaresIt()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: true);
        var subscribed = await app.SubscribedAsync(agent);
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        var buyerBase = config.GetProperty("knowledge_base").GetGuid(); // every subscription starts with its own
        await subscribed.Buyer.AddQaAsync(buyerBase, "Who walks the dogs?", BuyerFact);
        var stranger = await app.SignUpAsync("Stranger");
        await stranger.AddTopicAsync(await stranger.CreateKnowledgeBaseAsync(), "Dogs", "Dogs need walks thrice a day, say the stranger's notes.");
        await app.ProcessDocumentsAsync();

        var prompt = await PromptOfRunAsync(subscribed, "How often do dogs need walks?");

        Assert.Contains(ProviderFact, prompt);
        Assert.Contains(BuyerFact, prompt);
        Assert.DoesNotContain("thrice", prompt);
    }

    [Fact]
    public async Task Run_LeavesTheSubscriptionsKnowledgeOut_WhenTheAgentDoesNotDeclareIt()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: false);
        var subscribed = await app.SubscribedAsync(agent);
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        await subscribed.Buyer.AddQaAsync(config.GetProperty("knowledge_base").GetGuid(), "Who walks the dogs?", BuyerFact);
        await app.ProcessDocumentsAsync();

        var prompt = await PromptOfRunAsync(subscribed, "How often do dogs need walks?");

        Assert.Contains(ProviderFact, prompt);
        Assert.DoesNotContain(BuyerFact, prompt);
    }

    [Fact]
    public async Task AnotherOrganizationsKnowledgeBase_CannotBeAttached_ToAnAgentOrASubscription()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: true);
        var subscribed = await app.SubscribedAsync(agent);
        var stranger = await app.SignUpAsync("Stranger");
        var strangersBase = await stranger.CreateKnowledgeBaseAsync();

        var toAgent = await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { knowledge_base = strangersBase.ToString() });
        var problem = await Http.AssertProblemAsync(toAgent, HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("knowledge_base", problem.GetRawText());
        var toSubscription = await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/", new { knowledge_base = strangersBase });
        await Http.AssertProblemAsync(toSubscription, HttpStatusCode.BadRequest, "validation_failed");

        var unchanged = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/"));
        Assert.NotEqual(strangersBase, unchanged.GetProperty("knowledge_base").GetGuid());
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        Assert.NotEqual(strangersBase, config.GetProperty("knowledge_base").GetGuid());
    }

    [Fact]
    public async Task DetachingTheProvidersKnowledge_AppliesToTheNextRun()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: false);
        var subscribed = await app.SubscribedAsync(agent);
        Assert.Contains(ProviderFact, await PromptOfRunAsync(subscribed, "How often do dogs need walks?"));

        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { knowledge_base = "" }), HttpStatusCode.OK);
        var detached = await subscribed.KeyClient.RunAsync(subscribed.Config, "How often do dogs need walks, again?");

        // Neither knowledge base is set: the flow's retrieval fails cleanly, and the failed run costs nothing.
        var problem = await Http.AssertProblemAsync(detached, HttpStatusCode.UnprocessableEntity, "knowledge_not_configured");
        Assert.True(problem.TryGetProperty("run_id", out _));
    }

    /// <summary>The shared "Vector Store RAG" example, published with the provider's knowledge base attached.</summary>
    async Task<PublishedAgent> RagAgentAsync(bool declareBuyerKnowledge)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Dog care {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await seller.ImportExampleAsync(agentId, "Vector Store RAG.json");
        var providerBase = await seller.CreateKnowledgeBaseAsync("Dog care");
        await seller.UploadDocumentAsync(providerBase, "dogs.txt", TrainingFiles.Utf8(ProviderFact), "text/plain");
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agentId}/", new { knowledge_base = providerBase.ToString() }), HttpStatusCode.OK);
        if (declareBuyerKnowledge)
        {
            var fields = new { fields = new[] { new { key = "knowledge", node_id = "AstraDB-BteL9", field_name = "database_name", label = "Your documents", kind = "knowledge_base" } } };
            await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agentId}/configurable_fields/", fields), HttpStatusCode.OK);
        }
        var slug = $"dogs-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        await app.ProcessDocumentsAsync();
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>Runs the subscription and returns the prompt the model was sent.</summary>
    async Task<string> PromptOfRunAsync(Subscribed subscribed, string question)
    {
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, question), HttpStatusCode.OK);
        return app.Model.Requests.Select(r => r.LastUser).Last(text => text is not null && text.Contains(question))!;
    }
}
