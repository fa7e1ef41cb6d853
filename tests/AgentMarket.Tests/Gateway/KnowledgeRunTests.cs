using System.Net;
using System.Net.Http.Json;
using AgentMarket.Knowledge;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Knowledge;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// Runs read knowledge (SPEC §5, §7): the provider's own knowledge base always, the subscription's only when the provider
/// declares a knowledge-base field, and never another organization's.
/// </summary>
public class KnowledgeRunTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    const string ProviderFact = "Dogs need walks twice a day.";
    const string BuyerFact = "Our staff walk the shop's dogs at noon.";
    const long PricePerRun = 12;

    /// <summary>The buyer's journey of issue 6: subscribe, configure a persona, add a document, get a key, run, pay.</summary>
    [Fact]
    public async Task Run_UsesThePersona_TheProvidersKnowledge_AndTheSubscriptionsWhenTheAgentDeclaresIt_AndIsPaid()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: true);
        var buyer = await app.SignUpAsync("Buyer");
        var configId = await buyer.SubscribeAsync(agent);
        const string persona = "You are Rex, the shop's cheerful dog expert.";
        var configured = await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{configId}/", new { persona = new { system_prompt = persona } }));
        var buyerBase = configured.GetProperty("knowledge_base").GetGuid(); // every subscription starts with its own
        await buyer.AddQaAsync(buyerBase, "Who walks the dogs?", BuyerFact);
        var stranger = await app.SignUpAsync("Stranger");
        await stranger.AddTopicAsync(await stranger.CreateKnowledgeBaseAsync(), "Dogs", "Dogs need walks thrice a day, say the stranger's notes.");
        await app.ProcessDocumentsAsync();
        var (_, key) = await buyer.CreateKeyAsync(configId);
        var subscribed = new Subscribed(agent, buyer, configId, key, app.BearerClient(key));

        var request = await RequestOfRunAsync(subscribed, "How often do dogs need walks?");

        Assert.Equal(persona, request.System);
        Assert.Contains(ProviderFact, request.LastUser);
        Assert.Contains(BuyerFact, request.LastUser);
        Assert.DoesNotContain("thrice", request.Prompt);
        Assert.Equal(350 - PricePerRun, (await buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Run_LeavesTheSubscriptionsKnowledgeOut_WhenTheAgentDoesNotDeclareIt()
    {
        var agent = await RagAgentAsync(declareBuyerKnowledge: false);
        var subscribed = await app.SubscribedAsync(agent);
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        await subscribed.Buyer.AddQaAsync(config.GetProperty("knowledge_base").GetGuid(), "Who walks the dogs?", BuyerFact);
        await app.ProcessDocumentsAsync();

        var prompt = (await RequestOfRunAsync(subscribed, "How often do dogs need walks?")).Prompt;

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
        Assert.Contains(ProviderFact, (await RequestOfRunAsync(subscribed, "How often do dogs need walks?")).Prompt);

        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { knowledge_base = "" }), HttpStatusCode.OK);
        var detached = await subscribed.KeyClient.RunAsync(subscribed.Config, "How often do dogs need walks, again?");

        // Neither knowledge base is set: the flow's retrieval fails cleanly, and the failed run costs nothing.
        var problem = await Http.AssertProblemAsync(detached, HttpStatusCode.UnprocessableEntity, "knowledge_not_configured");
        Assert.True(problem.TryGetProperty("run_id", out _));
    }

    [Fact]
    public async Task DocumentQa_AnswersFromTheAgentsDocuments_OrTheBuyersWhenDeclared_AndNeverAStrangers()
    {
        // Langflow's "Document Q&A" starter: its File node has no path, so it reads the agent's own documents.
        var agent = await DocumentQaAgentAsync(declareBuyerDocuments: false);
        var subscribed = await app.SubscribedAsync(agent);
        var stranger = await app.SignUpAsync("Stranger");
        await stranger.AddTopicAsync(await stranger.CreateKnowledgeBaseAsync(), "Dogs", "Dogs need walks thrice a day, say the stranger's notes.");
        await app.ProcessDocumentsAsync();

        var prompt = (await RequestOfRunAsync(subscribed, "How often do dogs need walks?")).Prompt;
        Assert.Contains(ProviderFact, prompt);
        Assert.DoesNotContain("thrice", prompt);

        // Declared on the File node's path, the buyer's own knowledge base is what it reads: an uploaded file included.
        var declared = await DocumentQaAgentAsync(declareBuyerDocuments: true);
        var buyer = await app.SubscribedAsync(declared);
        var config = await Http.ReadJsonAsync(await buyer.Buyer.Client.GetAsync($"/api/customer-agent-configs/{buyer.Config}/"));
        var buyerBase = config.GetProperty("knowledge_base").GetGuid();

        // Nothing uploaded yet: the run fails, says what to do, and costs nothing.
        var before = (await buyer.Buyer.BalanceAsync()).GetProperty("available").GetInt64();
        var empty = await Http.AssertProblemAsync(await buyer.KeyClient.RunAsync(buyer.Config, "What does my document say?"), HttpStatusCode.UnprocessableEntity, "document_error");
        Assert.Contains("add one (Configure → Training)", empty.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await buyer.Buyer.BalanceAsync()).GetProperty("available").GetInt64());

        await buyer.Buyer.UploadDocumentAsync(buyerBase, "walks.txt", TrainingFiles.Utf8(BuyerFact), "text/plain");
        await buyer.Buyer.AddQaAsync(buyerBase, "Who feeds the dogs?", "Sam feeds them at six.");
        await app.ProcessDocumentsAsync();
        var buyerPrompt = (await RequestOfRunAsync(buyer, "Who walks the dogs?")).Prompt;
        Assert.Contains(BuyerFact, buyerPrompt);
        Assert.Contains("Answer: Sam feeds them at six.", buyerPrompt);
        Assert.DoesNotContain(ProviderFact, buyerPrompt);
        Assert.DoesNotContain("thrice", buyerPrompt);
        Assert.Equal(before - PricePerRun, (await buyer.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task DocumentQa_PutsAtMostTheRunsBudgetOfDocumentText_IntoThePrompt_SayingWhatWasLeftOut()
    {
        var agent = await DocumentQaAgentAsync(declareBuyerDocuments: false);
        var providerBase = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/"))).GetProperty("knowledge_base").GetGuid();
        var budget = app.Services.GetRequiredService<IOptionsMonitor<KnowledgeOptions>>().CurrentValue.MaxDocumentCharactersPerRun;
        // A manual longer than the whole budget, newer than the dog-care notes, so read first.
        var words = string.Concat(Enumerable.Repeat("leash collar harness ", (budget / 21) + 500));
        await agent.Seller.UploadDocumentAsync(providerBase, "manual.txt", TrainingFiles.Utf8($"MANUAL-START {words} MANUAL-END"), "text/plain");
        await app.ProcessDocumentsAsync();
        var subscribed = await app.SubscribedAsync(agent);
        var before = (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64();

        var prompt = (await RequestOfRunAsync(subscribed, "What does the manual say about leashes?")).Prompt;

        Assert.Contains("MANUAL-START leash collar", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("MANUAL-END", prompt, StringComparison.Ordinal);
        Assert.Contains("[The rest of the document \"manual.txt\" was left out", prompt, StringComparison.Ordinal);
        // The budget spent, the older document is not read at all, and the model is told so.
        Assert.DoesNotContain(ProviderFact, prompt, StringComparison.Ordinal);
        Assert.Contains("[The document \"dogs.txt\" was left out", prompt, StringComparison.Ordinal);
        var documentText = prompt[prompt.IndexOf("MANUAL-START", StringComparison.Ordinal)..prompt.IndexOf("[The rest of", StringComparison.Ordinal)].TrimEnd();
        Assert.InRange(documentText.Length, budget - 200, budget);
        Assert.Matches(@"(^| )(leash|collar|harness)$", documentText); // cut at a space, not inside a word
        Assert.Equal(before - PricePerRun, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task DocumentQa_ReadsTheTextExtractedWhenTheFileWasProcessed_NotTheFileAgain_AndDeletingTheDocumentRemovesIt()
    {
        var agent = await DocumentQaAgentAsync(declareBuyerDocuments: false);
        var providerBase = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/"))).GetProperty("knowledge_base").GetGuid();
        var fact = $"Fetch is played at noon, fact {Guid.NewGuid():N}.";
        var document = await agent.Seller.UploadDocumentAsync(providerBase, "fetch.txt", TrainingFiles.Utf8(fact), "text/plain");
        await app.ProcessDocumentsAsync();
        var documentId = document.GetProperty("uuid").GetGuid();
        var organization = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().TrainingDocuments
            .Where(d => d.Id == documentId).Select(d => d.OrganizationId).SingleAsync());
        var files = app.Services.GetRequiredService<DocumentFiles>();
        // Had the run extracted the file again (a large PDF starts pdftotext), it would read what the file holds now.
        await File.WriteAllTextAsync(files.PathOf(organization, documentId), "The file changed after it was processed.");
        var subscribed = await app.SubscribedAsync(agent);

        var prompt = (await RequestOfRunAsync(subscribed, "When is fetch played?")).Prompt;
        Assert.Contains(fact, prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("The file changed", prompt, StringComparison.Ordinal);

        // A document processed before its text was kept is extracted once more, and its text kept from then on.
        File.Delete(files.TextPathOf(organization, documentId));
        var legacyPrompt = (await RequestOfRunAsync(subscribed, "When is fetch played, again?")).Prompt;
        Assert.Contains("The file changed after it was processed.", legacyPrompt, StringComparison.Ordinal);
        Assert.True(File.Exists(files.TextPathOf(organization, documentId)));

        await Http.AssertStatusAsync(await agent.Seller.Client.DeleteAsync($"/api/training-documents/{documentId}"), HttpStatusCode.NoContent);
        Assert.False(File.Exists(files.PathOf(organization, documentId)));
        Assert.False(File.Exists(files.TextPathOf(organization, documentId)));
    }

    /// <summary>The shared "Document Q&amp;A" example, published with the provider's knowledge base attached.</summary>
    async Task<PublishedAgent> DocumentQaAgentAsync(bool declareBuyerDocuments)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Document answers {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await seller.ImportExampleAsync(agentId, "Document Q&A.json");
        var providerBase = await seller.CreateKnowledgeBaseAsync("Dog care");
        await seller.UploadDocumentAsync(providerBase, "dogs.txt", TrainingFiles.Utf8(ProviderFact), "text/plain");
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agentId}/", new { knowledge_base = providerBase.ToString() }), HttpStatusCode.OK);
        if (declareBuyerDocuments)
        {
            var fields = new[] { new { key = "documents", node_id = "File-b2gOG", field_name = "path", label = "Your documents", kind = "knowledge_base" } };
            await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agentId}/configurable_fields/", new { fields }), HttpStatusCode.OK);
        }
        var slug = $"docs-{Guid.NewGuid():N}"[..20];
        var pricing = new Dictionary<string, object?> { ["pricing"] = new { model = "fixed_credits", credits_per_run = PricePerRun } };
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug, pricing)), HttpStatusCode.Created);
        await app.ProcessDocumentsAsync();
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
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
        var fields = new List<object> { new { key = "system_prompt", node_id = "LanguageModelComponent-Wqbva", field_name = "system_message", label = "System prompt", kind = "long_text" } };
        if (declareBuyerKnowledge)
        {
            fields.Add(new { key = "knowledge", node_id = "AstraDB-BteL9", field_name = "database_name", label = "Your documents", kind = "knowledge_base" });
        }
        await Http.AssertStatusAsync(await seller.Client.PutAsJsonAsync($"/api/provider-agents/{agentId}/configurable_fields/", new { fields }), HttpStatusCode.OK);
        var slug = $"dogs-{Guid.NewGuid():N}"[..20];
        var pricing = new Dictionary<string, object?> { ["pricing"] = new { model = "fixed_credits", credits_per_run = PricePerRun } };
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug, pricing)), HttpStatusCode.Created);
        await app.ProcessDocumentsAsync();
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>Runs the subscription and returns the request the model was sent.</summary>
    async Task<RecordedRequest> RequestOfRunAsync(Subscribed subscribed, string question)
    {
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, question), HttpStatusCode.OK);
        return app.Model.Requests.Last(r => r.LastUser?.Contains(question) == true);
    }
}
