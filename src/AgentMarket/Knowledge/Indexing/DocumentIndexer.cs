using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge.Indexing;

/// <summary>
/// Replaces a document's chunks with freshly made ones and marks it ready, in one transaction that first re-checks
/// the processor's claim: a document deleted or re-claimed meanwhile gets no chunks. The full-text index follows the
/// chunk rows by itself (SQLite triggers, PostgreSQL generated column).
/// </summary>
sealed class DocumentIndexer(AppDbContext db, Embedder embedder, TimeProvider clock)
{
    /// <returns>False when the claim was lost (the document was deleted or another processor owns it now).</returns>
    public async Task<bool> ReplaceChunksAsync(TrainingDocument document, Guid claim, IReadOnlyList<TextChunk> chunks, bool truncated, CancellationToken cancellationToken)
    {
        // Embed before the transaction: the endpoint may be slow, and the database must not wait on it. A chunk is
        // embedded with its section title, which carries meaning its text may only imply.
        var vectors = embedder.IsEnabled
            ? await embedder.EmbedAsync(chunks.Select(c => c.Title is null || c.Text.StartsWith(c.Title, StringComparison.Ordinal) ? c.Text : $"{c.Title}\n{c.Text}").ToList(), cancellationToken)
            : null;
        var now = clock.GetUtcNow().UtcDateTime;
        try
        {
            return await WriteAsync(document, claim, chunks, truncated, vectors, now, cancellationToken);
        }
        finally
        {
            // The processor's one context serves a batch of documents: chunks left tracked by a failed save would be
            // inserted again with the next document's.
            db.ChangeTracker.Clear();
        }
    }

    async Task<bool> WriteAsync(TrainingDocument document, Guid claim, IReadOnlyList<TextChunk> chunks, bool truncated, IReadOnlyList<float[]>? vectors, DateTime now, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var finished = await db.TrainingDocuments
            .Where(d => d.Id == document.Id && d.State == TrainingDocumentState.Processing && d.ProcessingClaim == claim)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, TrainingDocumentState.Ready)
                .SetProperty(d => d.ChunkCount, chunks.Count)
                .SetProperty(d => d.Truncated, truncated)
                .SetProperty(d => d.FailureReason, (string?)null)
                .SetProperty(d => d.ProcessingClaim, (Guid?)null)
                .SetProperty(d => d.ClaimExpiresUtc, (DateTime?)null)
                .SetProperty(d => d.ProcessedUtc, now), cancellationToken);
        if (finished == 0)
        {
            return false;
        }
        await db.KnowledgeChunks.Where(c => c.DocumentId == document.Id).ExecuteDeleteAsync(cancellationToken);
        db.KnowledgeChunks.AddRange(chunks.Select((chunk, i) => new KnowledgeChunk
        {
            OrganizationId = document.OrganizationId,
            KnowledgeBaseId = document.KnowledgeBaseId,
            DocumentId = document.Id,
            Ordinal = i,
            Text = chunk.Text,
            Title = chunk.Title,
            Source = document.Title,
            Embedding = vectors is null ? null : Vectors.ToBytes(vectors[i]),
        }));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
