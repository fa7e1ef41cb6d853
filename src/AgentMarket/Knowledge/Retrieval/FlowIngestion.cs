using AgentMarket.Knowledge.Jobs;
using AgentMarket.Knowledge.Search;

namespace AgentMarket.Knowledge.Retrieval;

/// <summary>
/// Documents a flow ingests (a vector store's ingest input) become topics of the subscription's knowledge base: one
/// topic per source file, so a file split into many pieces costs one document of the plan's allowance. A topic whose
/// exact text is already there is reused, so a flow that ingests on every run adds its file once.
/// </summary>
sealed class FlowIngestion(TrainingDocumentIntake intake, DocumentProcessor processor)
{
    const int MaxTitleLength = 300;
    const string UnnamedSource = "Added by the agent's flow";

    public async Task AddAsync(KnowledgeSource target, IReadOnlyList<Flows.Services.KnowledgeDocument> documents, CancellationToken cancellationToken)
    {
        var topics = documents
            .Where(d => !string.IsNullOrWhiteSpace(d.Text))
            .GroupBy(d => SourceOf(d.Metadata), StringComparer.Ordinal)
            .Select(g => (Title: g.Key, Text: string.Join("\n\n", g.Select(d => d.Text.Trim()))))
            .ToList();
        if (topics.Sum(t => (long)t.Text.Length) > Extraction.TextExtractor.MaxCharacters)
        {
            throw new KnowledgeIngestException($"The flow tried to add more than {Extraction.TextExtractor.MaxCharacters:N0} characters at once.");
        }
        foreach (var (title, text) in topics)
        {
            var (document, failure) = await intake.AddTextAsync(target.OrganizationId, target.KnowledgeBaseId, TrainingDocumentKind.Topic, title, text, reuseIdentical: true, cancellationToken);
            if (failure is not null)
            {
                throw new KnowledgeIngestException(failure.Message);
            }
            // Index it now so this run's searches find it; if the background processor got there first, it finishes it.
            if (document!.State == TrainingDocumentState.Queued && await processor.ClaimAsync(document.Id, cancellationToken) is { } claim)
            {
                await processor.ProcessAsync(document.Id, claim, cancellationToken);
            }
        }
    }

    static string SourceOf(IReadOnlyDictionary<string, string> metadata)
    {
        var source = metadata.GetValueOrDefault("source") ?? metadata.GetValueOrDefault("file_path") ?? metadata.GetValueOrDefault("title");
        if (string.IsNullOrWhiteSpace(source))
        {
            return UnnamedSource;
        }
        var name = Path.GetFileName(source.Trim());
        name = name.Length > 0 ? name : source.Trim();
        return name.Length > MaxTitleLength ? name[..MaxTitleLength] : name;
    }
}
