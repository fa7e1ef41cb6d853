using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Knowledge;

/// <summary>Bound from the <c>Knowledge</c> section. Every key has a default, so a self-host needs none of them.</summary>
public sealed class KnowledgeOptions
{
    /// <summary>Largest training file accepted, in bytes (default 20 MB). Larger uploads answer 413.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxFileBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>
    /// Training documents an organization may keep, by plan code (files, Q&amp;A pairs and topics alike). Plans not
    /// listed get <see cref="DefaultMaxDocuments"/>. Storage is limited separately by the plan's <c>StorageGb</c>.
    /// </summary>
    public Dictionary<string, int> MaxDocumentsPerPlan { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["free"] = 100,
        ["plus"] = 1_000,
        ["pro"] = 10_000,
        ["enterprise"] = 100_000,
    };

    /// <summary>The document limit of a plan missing from <see cref="MaxDocumentsPerPlan"/>.</summary>
    [Range(0, int.MaxValue)]
    public int DefaultMaxDocuments { get; set; } = 100;

    /// <summary>How often the processor looks for queued documents.</summary>
    [Range(1, 3600)]
    public int ProcessingIntervalSeconds { get; set; } = 5;

    /// <summary>
    /// How long a processor owns a document it claimed. A document still <c>processing</c> after this (its process
    /// crashed or was stopped) is claimed again by the next tick.
    /// </summary>
    [Range(1, 1440)]
    public int ProcessingLeaseMinutes { get; set; } = 10;

    /// <summary>Claims per document before it fails for good, so a document that crashes the processor cannot loop forever.</summary>
    [Range(1, 20)]
    public int MaxProcessingAttempts { get; set; } = 3;

    /// <summary>The <c>pdftotext</c> executable (poppler-utils). Empty: looked up on <c>PATH</c> at start-up.</summary>
    public string? PdfToTextPath { get; set; }

    /// <summary>Wall-time limit of one PDF extraction.</summary>
    [Range(1, 600)]
    public int PdfTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// The embedding model of the OpenAI-compatible endpoint (<c>Llm:BaseUrl</c>, <c>Llm:ApiKey</c>), for example
    /// <c>text-embedding-3-small</c> or <c>nomic-embed-text</c>. Empty: full-text search only.
    /// </summary>
    public string? EmbeddingModel { get; set; }

    /// <summary>
    /// Characters of document text a run's File nodes put into their prompts at most, all documents together (default
    /// 100,000, about 25,000 tokens). A document past the budget is cut, and later ones are left out, each with a note
    /// the model reads; without it one large PDF would overflow the model's context and fail the run.
    /// </summary>
    [Range(1_000, 10_000_000)]
    public int MaxDocumentCharactersPerRun { get; set; } = 100_000;

    public int MaxDocumentsFor(string planCode) =>
        MaxDocumentsPerPlan.TryGetValue(planCode, out var limit) ? limit : DefaultMaxDocuments;
}
