using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Knowledge;

/// <summary>Knowledge Retrieval: the top <c>top_k</c> chunks of the agent's knowledge base for the query, as a table.</summary>
internal sealed class KnowledgeRetrievalComponent : Component
{
    static readonly InputSpec KnowledgeBase = new("knowledge_base", InputKind.Text, "");
    static readonly InputSpec SearchQuery = new("search_query", InputKind.Text, "");
    static readonly InputSpec TopK = new("top_k", InputKind.Int, 5L);
    static readonly InputSpec IncludeMetadata = new("include_metadata", InputKind.Bool, true);
    static readonly OutputSpec RetrieveData = new("retrieve_data", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "KnowledgeRetrieval",
        typeNames: ["KnowledgeRetrieval"],
        classNames: ["KnowledgeRetrievalComponent"],
        inputs: [KnowledgeBase, SearchQuery, TopK, IncludeMetadata],
        outputs: [RetrieveData]);

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.Retrieval);
        node.Report(ReportIssue.Info(IssueCodes.MappedToPlatform, $"\"{node.NodeId}\" searches the agent's knowledge base.", node.NodeId));
        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var query = node.Text(SearchQuery);
        var chunks = await Retrieval.SearchAsync(node, query, (int)Math.Clamp(node.Int(TopK), 0, 100), node.Text(KnowledgeBase));
        var includeMetadata = node.Bool(IncludeMetadata);
        node.Set(RetrieveData, new DataFrame([.. chunks.Select(chunk =>
        {
            var fields = new List<KeyValuePair<string, object?>> { new("content", chunk.Text), new("_score", chunk.Score) };
            if (includeMetadata)
            {
                fields.AddRange(chunk.Metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new KeyValuePair<string, object?>(pair.Key, pair.Value)));
            }

            return Data.FromPairs(fields);
        })]));
    }
}

/// <summary>
/// A hosted vector store of the examples (Astra DB), mapped onto the agent's knowledge base: documents on
/// <c>ingest_data</c> are added to it, <c>search_query</c> searches it. The store's database, collection,
/// token and embedding model are not used: the platform stores, embeds and ranks.
/// </summary>
internal sealed class VectorStoreComponent : Component
{
    static readonly InputSpec SearchQuery = new("search_query", InputKind.Text, "");
    static readonly InputSpec IngestData = new("ingest_data", InputKind.Handle);
    static readonly InputSpec ResultCount = new("number_of_results", InputKind.Int, 4L);
    static readonly InputSpec CollectionName = new("collection_name", InputKind.Text, "");
    static readonly InputSpec EmbeddingModel = new("embedding_model", InputKind.Handle);
    static readonly OutputSpec SearchResults = new("search_results", "Data");
    static readonly OutputSpec Table = new("dataframe", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "VectorStore",
        typeNames: ["AstraDB"],
        classNames: ["AstraDBVectorStoreComponent"],
        inputs: [SearchQuery, IngestData, ResultCount, CollectionName, EmbeddingModel],
        outputs: [SearchResults, Table]);

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.Retrieval);
        node.Report(ReportIssue.Info(
            IssueCodes.MappedToPlatform,
            $"\"{node.NodeId}\" ({node.Definition.Type}) is mapped onto the agent's knowledge base: its database, collection and token settings are not used.",
            node.NodeId));
        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var documents = Documents(node.Value(IngestData)).ToList();
        if (documents.Count > 0)
        {
            var knowledge = node.Services.Knowledge ?? throw Retrieval.NotConfigured();
            await knowledge.IngestAsync(documents, node.Cancellation);
        }

        var query = node.Text(SearchQuery);
        var chunks = query.Length == 0 ? [] : await Retrieval.SearchAsync(node, query, (int)Math.Clamp(node.Int(ResultCount), 0, 100), node.Text(CollectionName));
        var rows = chunks.Select(chunk => Data.FromPairs(
            [.. chunk.Metadata.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => new KeyValuePair<string, object?>(pair.Key, pair.Value)), new("text", chunk.Text)]))
            .ToImmutableArray();
        if (node.IsRequested(SearchResults))
        {
            node.Set(SearchResults, rows.Cast<object?>().ToList());
        }

        if (node.IsRequested(Table))
        {
            node.Set(Table, new DataFrame(rows));
        }
    }

    static IEnumerable<KnowledgeDocument> Documents(object? value) => value switch
    {
        null => [],
        IReadOnlyList<object?> items => items.SelectMany(Documents),
        DataFrame frame => frame.Rows.SelectMany(row => Documents(row)),
        Data data => [new KnowledgeDocument(data.Text ?? "", Metadata(data))],
        Message message => [new KnowledgeDocument(message.Text, ImmutableDictionary<string, string>.Empty)],
        string text => [new KnowledgeDocument(text, ImmutableDictionary<string, string>.Empty)],
        _ => [],
    };

    static ImmutableDictionary<string, string> Metadata(Data data) => data.Value.EnumerateObject()
        .Where(property => property.Name != data.TextKey && property.Value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
        .ToImmutableDictionary(property => property.Name, property => PythonText.Str(property.Value), StringComparer.Ordinal);
}

/// <summary>
/// Embedding models (OpenAI Embeddings, Embedding Model): the knowledge base embeds on its own, so the node only
/// marks the connection; its API key is not needed.
/// </summary>
internal sealed class EmbeddingsComponent : Component
{
    static readonly InputSpec Model = new("model", InputKind.Text, "");
    static readonly OutputSpec Embeddings = new("embeddings", "Embeddings");

    public override ComponentSpec Spec { get; } = new(
        "Embeddings",
        typeNames: ["OpenAIEmbeddings", "EmbeddingModel"],
        classNames: ["OpenAIEmbeddingsComponent", "EmbeddingModelComponent"],
        inputs: [Model],
        outputs: [Embeddings]);

    public override object? Prepare(NodeSetup node)
    {
        node.Report(ReportIssue.Info(
            IssueCodes.MappedToPlatform,
            $"\"{node.NodeId}\" ({node.Definition.Type}) is not called: the knowledge base computes its own embeddings.",
            node.NodeId));
        return null;
    }

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        node.Set(Embeddings, new EmbeddingsValue(node.NodeId, node.Text(Model) is { Length: > 0 } model ? model : null));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Shared by the retrieval components.</summary>
internal static class Retrieval
{
    public static async Task<IReadOnlyList<KnowledgeChunk>> SearchAsync(NodeExecution node, string query, int topK, string knowledgeBase)
    {
        var knowledge = node.Services.Knowledge ?? throw NotConfigured();
        return await knowledge.SearchAsync(new KnowledgeQuery(query, topK, knowledgeBase.Length > 0 ? knowledgeBase : null), node.Cancellation);
    }

    public static FlowComponentException NotConfigured() =>
        new(RunErrorCodes.KnowledgeNotConfigured, "This agent has no knowledge base: upload documents to it before running retrieval.");
}
