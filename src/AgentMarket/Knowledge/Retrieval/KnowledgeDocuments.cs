using System.Globalization;
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
/// One reader serves one run, and all its File nodes share <paramref name="characterBudget"/>: what the documents would
/// put into prompts beyond it is cut or left out, with a note saying so (<see cref="KnowledgeOptions.MaxDocumentCharactersPerRun"/>).
/// </summary>
sealed class KnowledgeDocuments(IServiceScopeFactory scopes, IReadOnlyList<KnowledgeSource> sources, KnowledgeSource? buyer, int characterBudget) : IDocumentReader
{
    /// <summary>Documents one path or a pathless File node reads at most, newest first: their text goes into one prompt.</summary>
    public const int MaxDocuments = 20;

    /// <summary>How far back from the budget's end a cut looks for a space, so it does not split a word.</summary>
    const int CutLookBack = 200;

    // A run's File nodes may read at once (parallel branches): the budget is taken under this lock.
    readonly Lock _budgetLock = new();
    int _charactersRead;

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
                    // Once the budget is spent a document is not extracted at all: a note in its place is all it could add.
                    texts.Add(Remaining is var remaining and > 0
                        ? Within(document, await TextOfAsync(services, document, remaining + 1, cancellationToken))
                        : LeftOut(document));
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

    /// <summary>How many characters of documents the run may still read.</summary>
    int Remaining
    {
        get
        {
            lock (_budgetLock)
            {
                return characterBudget - _charactersRead;
            }
        }
    }

    /// <summary>The document's text, or as much of it as the run's budget still allows, cut at a space and followed by a note.</summary>
    string Within(TrainingDocument document, string text)
    {
        int allowed;
        lock (_budgetLock)
        {
            allowed = Math.Min(text.Length, characterBudget - _charactersRead);
            _charactersRead += allowed;
        }
        if (allowed == text.Length)
        {
            return text;
        }
        if (allowed == 0)
        {
            return LeftOut(document);
        }
        var space = text.LastIndexOfAny([' ', '\n', '\t'], allowed - 1, Math.Min(CutLookBack, allowed));
        return $"{text[..(space > 0 ? space : allowed)].TrimEnd()}\n\n{Note($"The rest of the document \"{document.Title}\"")}";
    }

    string LeftOut(TrainingDocument document) => Note($"The document \"{document.Title}\"");

    /// <summary>Read by the model, so it knows its documents are incomplete rather than answering as if they were not.</summary>
    string Note(string what) =>
        string.Create(CultureInfo.InvariantCulture, $"[{what} was left out: a run reads at most {characterBudget:N0} characters of documents.]");

    /// <summary>What to do about it depends on whose knowledge base is empty: the buyer can fill their own, not the provider's.</summary>
    static DocumentReadException NoDocuments(bool buyersOwn) => new(buyersOwn
        ? "No document is ready in your knowledge base for this agent yet: add one (Configure → Training), then ask again."
        : "This agent has no documents to read yet: its provider has not added any.");

    /// <summary>Every query names the source's organization too: the ids were verified for exactly these pairs.</summary>
    static IQueryable<TrainingDocument> Ready(AppDbContext db, KnowledgeSource source) =>
        db.TrainingDocuments.AsNoTracking()
            .Where(d => d.OrganizationId == source.OrganizationId && d.KnowledgeBaseId == source.KnowledgeBaseId && d.State == TrainingDocumentState.Ready);

    /// <summary>
    /// At most <paramref name="maxCharacters"/> of the text the document was indexed from: a pair or topic as its chunks
    /// read, a file as it was extracted when processed (extracted again, and kept, only for a document processed before
    /// its text was kept).
    /// </summary>
    static async Task<string> TextOfAsync(IServiceProvider services, TrainingDocument document, int maxCharacters, CancellationToken cancellationToken)
    {
        var text = document.Kind switch
        {
            TrainingDocumentKind.Qa => document.QaText(),
            TrainingDocumentKind.Topic => $"{document.Title}\n\n{document.Body}",
            _ => await FileTextAsync(services, document, maxCharacters, cancellationToken),
        };
        return text.Length > maxCharacters ? text[..maxCharacters] : text;
    }

    static async Task<string> FileTextAsync(IServiceProvider services, TrainingDocument document, int maxCharacters, CancellationToken cancellationToken)
    {
        var files = services.GetRequiredService<DocumentFiles>();
        if (await files.ReadTextAsync(document.OrganizationId, document.Id, maxCharacters, cancellationToken) is { } kept)
        {
            return kept;
        }
        try
        {
            var text = Joined(await services.GetRequiredService<TextExtractor>().ExtractAsync(
                document.FileType!.Value, files.PathOf(document.OrganizationId, document.Id), cancellationToken));
            await files.WriteTextAsync(document.OrganizationId, document.Id, text, cancellationToken);
            return text;
        }
        catch (Exception exception) when (exception is UnreadableDocumentException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DocumentReadException($"The document \"{document.Title}\" can no longer be read; upload it again.", exception);
        }
    }

    /// <summary>A file's extracted text as a File node reads it, its blocks a blank line apart.</summary>
    public static string Joined(ExtractedText text) => string.Join("\n\n", text.Blocks.Select(block => block.Text));
}
