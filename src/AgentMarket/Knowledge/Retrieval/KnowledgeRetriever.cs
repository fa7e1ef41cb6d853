using System.Collections.Immutable;
using System.Globalization;
using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Search;
using FlowChunk = AgentMarket.Flows.Services.KnowledgeChunk;
using FlowDocument = AgentMarket.Flows.Services.KnowledgeDocument;

namespace AgentMarket.Knowledge.Retrieval;

/// <summary>
/// The engine's view of a run's knowledge: searches the verified sources (subscription and provider knowledge bases)
/// and adds a flow's ingested documents to the subscription's knowledge base only. Built by
/// <see cref="KnowledgeRetrievers.ForAsync"/>; safe to call from parallel nodes (each call has its own DI scope).
/// The flow's own knowledge-base name (<see cref="KnowledgeQuery.KnowledgeBase"/>) is ignored: the host decides.
/// </summary>
public sealed class KnowledgeRetriever : IKnowledgeRetriever
{
    readonly IServiceScopeFactory _scopes;
    readonly KnowledgeSource? _writable;

    internal KnowledgeRetriever(IServiceScopeFactory scopes, IReadOnlyList<KnowledgeSource> sources, KnowledgeSource? writable)
    {
        _scopes = scopes;
        Sources = sources;
        _writable = writable;
    }

    /// <summary>The knowledge bases this retriever reads, each with its owner.</summary>
    public IReadOnlyList<KnowledgeSource> Sources { get; }

    /// <summary>The subscription's knowledge base (the buyer's), when the run reads it.</summary>
    internal KnowledgeSource? BuyerSource => _writable;

    public async ValueTask<IReadOnlyList<FlowChunk>> SearchAsync(KnowledgeQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var scope = KnowledgeRetrievers.CreateSystemScope(_scopes);
        var hits = await scope.ServiceProvider.GetRequiredService<KnowledgeSearch>().SearchAsync(Sources, query.Query, query.TopK, cancellationToken);
        return hits.Select(ToChunk).ToList();
    }

    /// <summary>
    /// Adds the documents to the subscription's knowledge base as topics (one per source file), indexed before this
    /// returns so the same run can search them. Identical text is added once however often the flow runs.
    /// </summary>
    /// <exception cref="KnowledgeIngestException">The subscription has no knowledge base, or its plan's limits are reached.</exception>
    public async ValueTask IngestAsync(IReadOnlyList<FlowDocument> documents, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var target = _writable ?? throw new KnowledgeIngestException(
            "This flow adds documents to a knowledge base, but the subscription has none; the agent's own knowledge base is read-only.");
        await using var scope = KnowledgeRetrievers.CreateSystemScope(_scopes);
        await scope.ServiceProvider.GetRequiredService<FlowIngestion>().AddAsync(target, documents, cancellationToken);
    }

    static FlowChunk ToChunk(KnowledgeHit hit)
    {
        var metadata = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        metadata["source"] = hit.Source;
        metadata["document"] = hit.DocumentId.ToString();
        metadata["chunk"] = hit.Ordinal.ToString(CultureInfo.InvariantCulture);
        if (hit.Title is not null)
        {
            metadata["title"] = hit.Title;
        }
        return new FlowChunk(hit.Text, hit.Score, metadata.ToImmutable());
    }
}
