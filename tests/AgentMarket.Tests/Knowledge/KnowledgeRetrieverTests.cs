using System.Collections.Immutable;
using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Knowledge;

/// <summary>The runtime's view: a run reads the subscription's knowledge merged with the provider's, and ingests into the subscription's only.</summary>
public class KnowledgeRetrieverTests(KnowledgeApp app) : IClassFixture<KnowledgeApp>
{
    KnowledgeRetrievers Retrievers => app.Services.GetRequiredService<KnowledgeRetrievers>();

    [Fact]
    public async Task Search_MergesTheSubscriptionsAndTheProvidersKnowledge_AndNothingElse()
    {
        var buyer = await app.SignUpAsync("Buyer");
        var buyerBase = await buyer.CreateKnowledgeBaseAsync();
        await buyer.AddTopicAsync(buyerBase, "Our store", "Our store in Lyon sells the Aurora kettle.");
        var provider = await app.SignUpAsync("Provider");
        var providerBase = await provider.CreateKnowledgeBaseAsync();
        await provider.UploadDocumentAsync(providerBase, "aurora-manual.txt", TrainingFiles.Utf8("The Aurora kettle boils a litre in three minutes."), "text/plain");
        var stranger = await app.SignUpAsync("Stranger");
        var strangerBase = await stranger.CreateKnowledgeBaseAsync();
        await stranger.AddTopicAsync(strangerBase, "Aurora", "Aurora kettle Aurora kettle Aurora kettle: the stranger's notes.");
        await app.ProcessDocumentsAsync();

        var retriever = (await Retrievers.ForAsync(buyer.OrganizationId, buyerBase, provider.OrganizationId, providerBase, CancellationToken.None))!;
        var chunks = await retriever.SearchAsync(new KnowledgeQuery("Aurora kettle", 10, null), CancellationToken.None);

        Assert.Equal(
            ["Our store\n\nOur store in Lyon sells the Aurora kettle.", "The Aurora kettle boils a litre in three minutes."],
            chunks.Select(c => c.Text).Order(StringComparer.Ordinal));
        var manual = chunks.Single(c => c.Metadata["source"] == "aurora-manual.txt");
        Assert.Equal("0", manual.Metadata["chunk"]);
        Assert.True(Guid.TryParse(manual.Metadata["document"], out _));
        Assert.All(chunks, c => Assert.True(c.Score > 0));

        var providerOnly = (await Retrievers.ForAsync(buyer.OrganizationId, null, provider.OrganizationId, providerBase, CancellationToken.None))!;
        Assert.Equal(["aurora-manual.txt"], (await providerOnly.SearchAsync(new KnowledgeQuery("Aurora kettle", 10, null), CancellationToken.None)).Select(c => c.Metadata["source"]));
        Assert.Empty(await retriever.SearchAsync(new KnowledgeQuery("Aurora kettle", 0, null), CancellationToken.None));
    }

    [Fact]
    public async Task Ingest_AddsTopicsToTheSubscriptionsKnowledgeBase_OncePerText_SearchableAtOnce()
    {
        var buyer = await app.SignUpAsync("Buyer");
        var buyerBase = await buyer.CreateKnowledgeBaseAsync();
        var provider = await app.SignUpAsync("Provider");
        var providerBase = await provider.CreateKnowledgeBaseAsync();
        var retriever = (await Retrievers.ForAsync(buyer.OrganizationId, buyerBase, provider.OrganizationId, providerBase, CancellationToken.None))!;
        KnowledgeDocument[] split =
        [
            new("Tides at Saint-Malo rise up to thirteen metres.", ImmutableDictionary<string, string>.Empty.Add("source", "/flows/files/tides.pdf")),
            new("Low tide uncovers the path to Grand Bé.", ImmutableDictionary<string, string>.Empty.Add("source", "/flows/files/tides.pdf")),
            new("Crêpes are best with salted butter.", ImmutableDictionary<string, string>.Empty.Add("file_path", "food.txt")),
        ];

        await retriever.IngestAsync(split, CancellationToken.None);
        await retriever.IngestAsync(split, CancellationToken.None); // a flow that ingests on every run

        var documents = await Http.ReadJsonAsync(await buyer.Client.GetAsync($"/api/training-documents/?knowledge_base={buyerBase}"));
        Assert.Equal(2, documents.GetProperty("total").GetInt32());
        Assert.Equal(["food.txt", "tides.pdf"], documents.GetProperty("items").EnumerateArray().Select(d => d.GetProperty("title").GetString()).Order(StringComparer.Ordinal));
        Assert.All(documents.GetProperty("items").EnumerateArray(), d => Assert.Equal(("topic", "ready"), (d.GetProperty("kind").GetString(), d.State())));
        var tides = await retriever.SearchAsync(new KnowledgeQuery("When is low tide?", 3, null), CancellationToken.None);
        Assert.Equal("tides.pdf\n\nTides at Saint-Malo rise up to thirteen metres.\n\nLow tide uncovers the path to Grand Bé.", tides[0].Text);
        Assert.Equal(0, (await Http.ReadJsonAsync(await provider.Client.GetAsync("/api/training-documents/"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Ingest_IsRefused_WithoutASubscriptionKnowledgeBase_OrPastThePlansLimit()
    {
        var buyer = await app.SignUpAsync("Buyer");
        var provider = await app.SignUpAsync("Provider");
        var providerBase = await provider.CreateKnowledgeBaseAsync();
        var providerOnly = (await Retrievers.ForAsync(buyer.OrganizationId, null, provider.OrganizationId, providerBase, CancellationToken.None))!;
        KnowledgeDocument[] one = [new("Some text.", ImmutableDictionary<string, string>.Empty)];

        var refused = await Assert.ThrowsAsync<KnowledgeIngestException>(() => providerOnly.IngestAsync(one, CancellationToken.None).AsTask());
        Assert.Contains("read-only", refused.Message);
        Assert.Equal(0, (await Http.ReadJsonAsync(await provider.Client.GetAsync("/api/training-documents/"))).GetProperty("total").GetInt32());

        var buyerBase = await buyer.CreateKnowledgeBaseAsync();
        var retriever = (await Retrievers.ForAsync(buyer.OrganizationId, buyerBase, null, null, CancellationToken.None))!;
        var tooMany = Enumerable.Range(0, 101).Select(i => new KnowledgeDocument($"Text {i}.", ImmutableDictionary<string, string>.Empty.Add("source", $"file{i}.txt"))).ToList();
        var full = await Assert.ThrowsAsync<KnowledgeIngestException>(() => retriever.IngestAsync(tooMany, CancellationToken.None).AsTask());
        Assert.Contains("100 training documents", full.Message);
    }
}
