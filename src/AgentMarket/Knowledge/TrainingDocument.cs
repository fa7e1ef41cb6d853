using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Knowledge;

public enum TrainingDocumentKind
{
    /// <summary>An uploaded file, kept under the data directory.</summary>
    File,

    /// <summary>A question and its answer.</summary>
    Qa,

    /// <summary>A titled piece of text.</summary>
    Topic,
}

/// <summary>queued → processing → ready | failed; a retry or re-process goes back to queued.</summary>
public enum TrainingDocumentState
{
    Queued,
    Processing,
    Ready,
    Failed,
}

/// <summary>What an uploaded file holds, decided from its bytes (the name and declared type only pick among text formats).</summary>
public enum TrainingFileType
{
    Text,
    Markdown,
    Html,
    Pdf,
    Docx,
    Csv,
}

/// <summary>One training document of a knowledge base and its processing state.</summary>
public sealed class TrainingDocument : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid KnowledgeBaseId { get; init; }
    public TrainingDocumentKind Kind { get; init; }

    /// <summary>The file's original name, the question of a Q&amp;A pair, or the topic's title.</summary>
    public required string Title { get; init; }

    /// <summary>The answer of a Q&amp;A pair or the topic's text; null for files, whose bytes are on disk.</summary>
    public string? Body { get; init; }

    /// <summary>A Q&amp;A pair as it is indexed and read: the question, then its answer.</summary>
    public string QaText() => $"Question: {Title}\nAnswer: {Body}";

    /// <summary>The content type the uploader declared (files only); informational, never trusted.</summary>
    public string? ContentType { get; init; }
    public TrainingFileType? FileType { get; init; }

    /// <summary>Bytes counted against the plan's storage: the file's length, or the UTF-8 length of the text.</summary>
    public long SizeBytes { get; init; }

    /// <summary>SHA-256 (hex) of the content; lets flow ingestion add the same text once however often a flow runs.</summary>
    public required string ContentHash { get; init; }

    public TrainingDocumentState State { get; set; }

    /// <summary>Why processing failed, in words for the document's owner (never the text of the document).</summary>
    public string? FailureReason { get; set; }
    public int ChunkCount { get; set; }

    /// <summary>True when only the first part of a very large document was indexed (row and size caps).</summary>
    public bool Truncated { get; set; }

    /// <summary>Processing claims so far; a document is failed for good after too many.</summary>
    public int Attempts { get; set; }

    /// <summary>The claim of the processor working on it, so a late or duplicate processor cannot overwrite a newer result.</summary>
    public Guid? ProcessingClaim { get; set; }
    public DateTime? ClaimExpiresUtc { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? ProcessedUtc { get; set; }
}

sealed class TrainingDocumentConfiguration : IEntityTypeConfiguration<TrainingDocument>
{
    public void Configure(EntityTypeBuilder<TrainingDocument> e)
    {
        e.ToTable("training_documents");
        e.Property(x => x.Title).HasMaxLength(1000);
        e.Property(x => x.ContentType).HasMaxLength(200);
        e.Property(x => x.ContentHash).HasMaxLength(64);
        e.Property(x => x.FailureReason).HasMaxLength(500);
        e.HasOne<Identity.Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<KnowledgeBase>().WithMany().HasForeignKey(x => x.KnowledgeBaseId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.KnowledgeBaseId, x.CreatedUtc });
        e.HasIndex(x => new { x.KnowledgeBaseId, x.ContentHash });
        e.HasIndex(x => new { x.State, x.ClaimExpiresUtc });
    }
}
