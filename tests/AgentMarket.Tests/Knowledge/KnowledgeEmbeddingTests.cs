using System.Net;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>The knowledge base with embeddings: the host's model endpoint is the fake OpenAI-compatible server.</summary>
public sealed class EmbeddingKnowledgeApp : KnowledgeApp
{
    FakeOpenAiServer? _model;

    public FakeOpenAiServer Model => _model ?? throw new InvalidOperationException("The fake model server has not started.");

    public override async ValueTask InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> KnowledgeSettings() =>
    [
        new("Llm:BaseUrl", Model.BaseUrl.ToString()),
        new("Knowledge:EmbeddingModel", "fake-embedding"),
        new("Knowledge:MaxProcessingAttempts", "2"),
    ];

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_model is not null)
        {
            await _model.DisposeAsync();
        }
    }
}

/// <summary>Chunks are embedded when a model is configured, and search ranks by meaning as well as by words.</summary>
public class KnowledgeEmbeddingTests : IClassFixture<EmbeddingKnowledgeApp>
{
    readonly EmbeddingKnowledgeApp _app;

    public KnowledgeEmbeddingTests(EmbeddingKnowledgeApp app)
    {
        _app = app;
        app.Model.Reset();
    }

    [Fact]
    public async Task ChunksAreEmbedded_AndAQuestionSharingNoWordFindsItsChunkByMeaning()
    {
        _app.Model.EmbedAlike("parcel", "package", "shipment");
        var buyer = await _app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        await buyer.AddTopicAsync(knowledgeBase, "Couriers", "Our couriers bring every parcel within two days.");
        await buyer.AddTopicAsync(knowledgeBase, "Cafe", "The cafe serves espresso and croissants.");
        await _app.ProcessDocumentsAsync();
        Assert.Contains("Couriers\n\nOur couriers bring every parcel within two days.", _app.Model.EmbeddingInputs);

        var hits = await buyer.SearchAsync(knowledgeBase, "where is my package?");

        Assert.Equal("Couriers", hits[0].GetProperty("title").GetString());
        Assert.Contains("where is my package?", _app.Model.EmbeddingInputs);
    }

    [Fact]
    public async Task EmbeddingEndpointDown_WhileProcessing_RetriesThenFailsWithTheReason_AndAReprocessRecovers()
    {
        _app.Model.FailEmbeddings(503);
        var buyer = await _app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.AddQaAsync(knowledgeBase, "Gift wrapping?", "Free for every order.")).Uuid();

        Assert.Equal(2, await _app.ProcessDocumentsAsync());

        var failed = await buyer.DocumentAsync(document);
        Assert.Equal(("failed", "The embedding endpoint failed (HTTP 503). Retry it later."), (failed.State(), failed.GetProperty("failure_reason").GetString()));
        _app.Model.FailEmbeddings(200);
        await Http.AssertStatusAsync(await buyer.Client.PostAsync($"/api/training-documents/{document}/process/", null), HttpStatusCode.Accepted);
        await _app.ProcessDocumentsAsync();
        Assert.Equal("ready", (await buyer.DocumentAsync(document)).State());
    }

    [Fact]
    public async Task EmbeddingEndpointDown_WhileSearching_FallsBackToFullText()
    {
        var buyer = await _app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        await buyer.AddTopicAsync(knowledgeBase, "Lockers", "Lockers at the station keep parcels for three days.");
        await _app.ProcessDocumentsAsync();
        _app.Model.FailEmbeddings(500);

        var hit = Assert.Single(await buyer.SearchAsync(knowledgeBase, "station lockers"));

        Assert.Equal("Lockers", hit.GetProperty("title").GetString());
    }
}

/// <summary>The whole path: a marketplace flow (the shared "Vector Store RAG" example) run by the engine on the platform's retriever.</summary>
public class KnowledgeRuntimeTests(EmbeddingKnowledgeApp app) : IClassFixture<EmbeddingKnowledgeApp>
{
    [Fact]
    public async Task VectorStoreRagExample_AnswersFromTheProvidersAndTheSubscriptionsKnowledge()
    {
        app.Model.Reset();
        app.Model.Otherwise(FakeReply.Say("Twice a day."));
        var provider = await app.SignUpAsync("Provider");
        var providerBase = await provider.CreateKnowledgeBaseAsync("Dog care");
        await provider.UploadDocumentAsync(providerBase, "dogs.txt", TrainingFiles.Utf8("Dogs need walks twice a day."), "text/plain");
        var buyer = await app.SignUpAsync("Buyer");
        var buyerBase = await buyer.CreateKnowledgeBaseAsync("Our shop");
        await buyer.AddQaAsync(buyerBase, "Who walks the dogs?", "Our staff walk the shop's dogs at noon.");
        var stranger = await app.SignUpAsync("Stranger");
        var strangerBase = await stranger.CreateKnowledgeBaseAsync();
        await stranger.AddTopicAsync(strangerBase, "Dogs", "Stranger's dogs need walks thrice a day.");
        await app.ProcessDocumentsAsync();
        var retriever = await app.Services.GetRequiredService<KnowledgeRetrievers>().ForAsync(buyer.OrganizationId, buyerBase, provider.OrganizationId, providerBase, CancellationToken.None);
        var compiled = FlowEngine.Default.Compile(await File.ReadAllBytesAsync(Path.Combine(Repo.Shared, "examples", "langflow", "Vector Store RAG.json")));
        var model = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions { BaseUrl = app.Model.BaseUrl, ApiKey = "sk-test", Model = "fake-model", MaxRetries = 0 });
        var services = new FlowServices { Models = new SingleModelResolver(model), Messages = new InMemoryMessageStore(), Knowledge = retriever };

        var result = await FlowEngine.Default.RunAsync(compiled.Plan!, new RunRequest { InputValue = "How often do dogs need walks?" }, services, CancellationToken.None);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var prompt = Assert.Single(app.Model.Requests).LastUser!;
        Assert.Contains("Dogs need walks twice a day.", prompt);
        Assert.Contains("Our staff walk the shop's dogs at noon.", prompt);
        Assert.DoesNotContain("thrice", prompt);
    }
}
