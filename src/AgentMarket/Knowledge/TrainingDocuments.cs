using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge;

/// <summary>
/// What the API and the Configure page's Training tab do to documents that exist: delete one with its chunks, queue one
/// again for processing. Both go through the tenant filter, so another organization's document is simply not found.
/// </summary>
sealed class TrainingDocuments(AppDbContext db, DocumentFiles files, TimeProvider clock, ILogger<TrainingDocuments> logger)
{
    public enum Requeue
    {
        Queued,
        NotFound,
        BeingProcessed,
    }

    /// <summary>Deletes the row in one statement; its chunks (and their full-text entries) go with it by cascade, then the file.</summary>
    public async Task<bool> DeleteAsync(Guid uuid, CancellationToken ct)
    {
        var document = await db.TrainingDocuments.AsNoTracking().Where(d => d.Id == uuid).Select(d => new { d.OrganizationId, d.Kind }).FirstOrDefaultAsync(ct);
        if (document is null || await db.TrainingDocuments.Where(d => d.Id == uuid).ExecuteDeleteAsync(ct) == 0)
        {
            return false;
        }
        if (document.Kind == TrainingDocumentKind.File)
        {
            DeleteFile(document.OrganizationId, uuid);
        }
        return true;
    }

    /// <summary>Removes a deleted document's file and its extracted text; one that cannot be removed is logged, not an error (its row is gone).</summary>
    public void DeleteFile(Guid organization, Guid document)
    {
        try
        {
            DocumentFiles.DeleteIfPresent(files.PathOf(organization, document));
            DocumentFiles.DeleteIfPresent(files.TextPathOf(organization, document));
        }
        catch (IOException exception)
        {
            logger.LogWarning(exception, "The file of deleted training document {Document} could not be removed", document);
        }
    }

    /// <summary>Queues the document again (a retry after a failure, or a re-process), unless a processor holds it now.</summary>
    public async Task<Requeue> ProcessAgainAsync(Guid uuid, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var queued = await db.TrainingDocuments
            .Where(d => d.Id == uuid && (d.State != TrainingDocumentState.Processing || d.ClaimExpiresUtc < now))
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, TrainingDocumentState.Queued)
                .SetProperty(d => d.FailureReason, (string?)null)
                .SetProperty(d => d.Attempts, 0)
                .SetProperty(d => d.ProcessingClaim, (Guid?)null)
                .SetProperty(d => d.ClaimExpiresUtc, (DateTime?)null), ct);
        if (queued == 1)
        {
            return Requeue.Queued;
        }
        return await db.TrainingDocuments.AnyAsync(d => d.Id == uuid, ct) ? Requeue.BeingProcessed : Requeue.NotFound;
    }
}
