using System.Collections.Immutable;

namespace AgentMarket.Flows.Services;

/// <summary>
/// The agent's knowledge base. KnowledgeRetrieval and the vector-store components (Astra DB in the examples) map
/// onto it: searches go to <see cref="SearchAsync"/>, a vector store's ingest input to <see cref="IngestAsync"/>.
/// The platform embeds and ranks; the flow's embedding nodes and store credentials are not used.
/// </summary>
public interface IKnowledgeRetriever
{
    /// <summary>The best chunks for the query, best first.</summary>
    ValueTask<IReadOnlyList<KnowledgeChunk>> SearchAsync(KnowledgeQuery query, CancellationToken cancellationToken);

    /// <summary>Adds documents to the knowledge base.</summary>
    ValueTask IngestAsync(IReadOnlyList<KnowledgeDocument> documents, CancellationToken cancellationToken);
}

/// <summary>A search.</summary>
/// <param name="Query">The search text.</param>
/// <param name="TopK">How many chunks to return.</param>
/// <param name="KnowledgeBase">The knowledge base or collection the flow names, if any; the host may ignore it.</param>
public sealed record KnowledgeQuery(string Query, int TopK, string? KnowledgeBase);

/// <summary>A retrieved chunk.</summary>
/// <param name="Text">Chunk text.</param>
/// <param name="Score">Relevance, higher is better.</param>
/// <param name="Metadata">Source, title, and other metadata.</param>
public sealed record KnowledgeChunk(string Text, double Score, ImmutableDictionary<string, string> Metadata);

/// <summary>A document to ingest.</summary>
/// <param name="Text">Its text.</param>
/// <param name="Metadata">Its metadata.</param>
public sealed record KnowledgeDocument(string Text, ImmutableDictionary<string, string> Metadata);

/// <summary>
/// An in-process knowledge base with term-overlap (BM25) ranking: for the CLI and tests. The platform's real
/// knowledge base (SQLite FTS5 / PostgreSQL full-text) implements the same interface.
/// </summary>
public sealed class InMemoryKnowledgeBase : IKnowledgeRetriever
{
    readonly Lock _gate = new();
    readonly List<(KnowledgeDocument Document, string[] Terms)> _documents = [];

    /// <summary>Documents added so far.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _documents.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask IngestAsync(IReadOnlyList<KnowledgeDocument> documents, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _documents.AddRange(documents.Select(document => (document, Terms(document.Text))));
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<KnowledgeChunk>> SearchAsync(KnowledgeQuery query, CancellationToken cancellationToken)
    {
        var queryTerms = Terms(query.Query).Distinct(StringComparer.Ordinal).ToArray();
        lock (_gate)
        {
            if (_documents.Count == 0 || queryTerms.Length == 0)
            {
                return ValueTask.FromResult<IReadOnlyList<KnowledgeChunk>>([]);
            }

            var averageLength = _documents.Average(entry => entry.Terms.Length);
            var ranked = _documents
                .Select((entry, order) => (entry.Document, Score: Bm25(entry.Terms, queryTerms, averageLength), order))
                .Where(candidate => candidate.Score > 0)
                .OrderByDescending(candidate => candidate.Score)
                .ThenBy(candidate => candidate.order)
                .Take(Math.Max(0, query.TopK))
                .Select(candidate => new KnowledgeChunk(candidate.Document.Text, Math.Round(candidate.Score, 6), candidate.Document.Metadata))
                .ToList();
            return ValueTask.FromResult<IReadOnlyList<KnowledgeChunk>>(ranked);
        }
    }

    double Bm25(string[] documentTerms, string[] queryTerms, double averageLength)
    {
        const double k1 = 1.2;
        const double b = 0.75;
        var score = 0.0;
        foreach (var term in queryTerms)
        {
            var frequency = documentTerms.Count(candidate => candidate == term);
            if (frequency == 0)
            {
                continue;
            }

            var containing = _documents.Count(entry => entry.Terms.Contains(term, StringComparer.Ordinal));
            var idf = Math.Log(1 + ((_documents.Count - containing + 0.5) / (containing + 0.5)));
            score += idf * frequency * (k1 + 1) / (frequency + (k1 * (1 - b + (b * documentTerms.Length / averageLength))));
        }

        return score;
    }

    static string[] Terms(string text) =>
        text.ToLowerInvariant().Split(
            (char[])[' ', '\n', '\r', '\t', '.', ',', ';', ':', '!', '?', '(', ')', '[', ']', '"', '\'', '/', '-'],
            StringSplitOptions.RemoveEmptyEntries);
}
