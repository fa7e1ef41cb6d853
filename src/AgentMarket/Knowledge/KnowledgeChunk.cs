using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Knowledge;

/// <summary>
/// A searchable piece of a training document. The full-text index lives outside the EF model (SQLite FTS5 table kept
/// by triggers, PostgreSQL generated <c>tsvector</c> column; see 0005_knowledge.sql), which is why the key is an
/// integer: FTS5 addresses rows by a stable integer rowid.
/// </summary>
public sealed class KnowledgeChunk : ITenantOwned
{
    public long Id { get; init; }
    public Guid OrganizationId { get; init; }
    public Guid KnowledgeBaseId { get; init; }
    public Guid DocumentId { get; init; }

    /// <summary>Position of the chunk in its document, from 0.</summary>
    public int Ordinal { get; init; }
    public required string Text { get; init; }

    /// <summary>The heading of the section the chunk comes from, or the question or topic title.</summary>
    public string? Title { get; init; }

    /// <summary>The document's name (file name, question or topic title), shown to the model as the chunk's source.</summary>
    public required string Source { get; init; }

    /// <summary>Unit-length float32 vector (little-endian) when embeddings are configured; null otherwise.</summary>
    public byte[]? Embedding { get; init; }
}

sealed class KnowledgeChunkConfiguration : IEntityTypeConfiguration<KnowledgeChunk>
{
    public void Configure(EntityTypeBuilder<KnowledgeChunk> e)
    {
        e.ToTable("knowledge_chunks");
        e.Property(x => x.Title).HasMaxLength(1000);
        e.Property(x => x.Source).HasMaxLength(1000);
        e.HasOne<KnowledgeBase>().WithMany().HasForeignKey(x => x.KnowledgeBaseId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<TrainingDocument>().WithMany().HasForeignKey(x => x.DocumentId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.DocumentId, x.Ordinal }).IsUnique();
        e.HasIndex(x => x.KnowledgeBaseId);
    }
}
