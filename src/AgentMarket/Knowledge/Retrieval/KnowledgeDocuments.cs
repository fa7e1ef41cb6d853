using AgentMarket.Flows.Services;
using AgentMarket.Knowledge.Extraction;
using AgentMarket.Knowledge.Search;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge.Retrieval;

/// <summary>
/// What a flow's File node reads in the marketplace (format §4.7): the ready documents of the run's knowledge bases,
/// the subscription's first, then the agent's own (the same sources as <see cref="KnowledgeRetriever"/>, so never
/// another tenant's). A path names a document by id or by file name (Langflow's <c>&lt;flow_id&gt;/&lt;file&gt;</c>
/// matches the file name), or a whole knowledge base by its id, which is what a declared knowledge-base field on the
/// node's <c>path</c> gives it. A File node given no path reads the sources' documents, so Langflow's "Document Q&amp;A"
/// answers from the documents in the agent's (and, when declared, the buyer's) knowledge base.
/// </summary>
sealed class KnowledgeDocuments(IServiceScopeFactory scopes, IReadOnlyList<KnowledgeSource> sources, KnowledgeSource? buyer) : IDocumentReader
{
    /// <summary>Documents one path or a pathless File node reads at most, newest first: their text goes into one prompt.</summary>
    public const int MaxDocuments = 20;

    public async ValueTask<string> ReadTextAsync(string path, CancellationToken cancellationToken)
    {
        await using var scope = KnowledgeRetrievers.CreateSystemScope(scopes);
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<AppDbContext>();
        var id = Guid.TryParse(path, out var parsed) ? parsed : (Guid?)null;
        var fileName = path.Replace('\\', '/').Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        foreach (var source in sources)
        {
            var documents = Ready(db, source);
            var wholeBase = id == source.KnowledgeBaseId;
            var found = wholeBase
                ? await documents.OrderByDescending(d => d.CreatedUtc).Take(MaxDocuments).ToListAsync(cancellationToken)
                : await documents.Where(d => d.Id == id || d.Title == fileName).OrderByDescending(d => d.CreatedUtc).Take(1).ToListAsync(cancellationToken);
            if (wholeBase && found.Count == 0)
            {
                throw NoDocuments(source == buyer);
            }
            if (found.Count > 0)
            {
                var texts = new List<string>(found.Count);
                foreach (var document in found)
                {
                    texts.Add(await TextOfAsync(services, document, cancellationToken));
                }
                return string.Join("\n\n", texts);
            }
        }
        var shown = path.Length > 100 ? path[..100] + "…" : path;
        throw new DocumentReadException($"No document \"{shown}\" is ready in this agent's knowledge base.");
    }

    public async ValueTask<IReadOnlyList<string>> DefaultPathsAsync(CancellationToken cancellationToken)
    {
        await using var scope = KnowledgeRetrievers.CreateSystemScope(scopes);
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var paths = new List<string>();
        foreach (var source in sources)
        {
            var ids = await Ready(db, source).OrderByDescending(d => d.CreatedUtc).Select(d => d.Id).Take(MaxDocuments - paths.Count).ToListAsync(cancellationToken);
            paths.AddRange(ids.Select(documentId => documentId.ToString()));
        }
        return paths.Count > 0 ? paths : throw NoDocuments(buyer is not null);
    }

    /// <summary>What to do about it depends on whose knowledge base is empty: the buyer can fill their own, not the provider's.</summary>
    static DocumentReadException NoDocuments(bool buyersOwn) => new(buyersOwn
        ? "No document is ready in your knowledge base for this agent yet: add one (Configure → Training), then ask again."
        : "This agent has no documents to read yet: its provider has not added any.");

    /// <summary>Every query names the source's organization too: the ids were verified for exactly these pairs.</summary>
    static IQueryable<TrainingDocument> Ready(AppDbContext db, KnowledgeSource source) =>
        db.TrainingDocuments.AsNoTracking()
            .Where(d => d.OrganizationId == source.OrganizationId && d.KnowledgeBaseId == source.KnowledgeBaseId && d.State == TrainingDocumentState.Ready);

    /// <summary>The text the document was indexed from: a pair or topic as its chunks read, a file extracted again.</summary>
    static async Task<string> TextOfAsync(IServiceProvider services, TrainingDocument document, CancellationToken cancellationToken)
    {
        switch (document.Kind)
        {
            case TrainingDocumentKind.Qa:
                return document.QaText();
            case TrainingDocumentKind.Topic:
                return $"{document.Title}\n\n{document.Body}";
            default:
                var file = services.GetRequiredService<DocumentFiles>().PathOf(document.OrganizationId, document.Id);
                try
                {
                    var text = await services.GetRequiredService<TextExtractor>().ExtractAsync(document.FileType!.Value, file, cancellationToken);
                    return string.Join("\n\n", text.Blocks.Select(block => block.Text));
                }
                catch (Exception exception) when (exception is UnreadableDocumentException or FileNotFoundException or DirectoryNotFoundException)
                {
                    throw new DocumentReadException($"The document \"{document.Title}\" can no longer be read; upload it again.", exception);
                }
        }
    }
}
