using AgentMarket.Knowledge.Extraction;
using AgentMarket.Knowledge.Indexing;
using AgentMarket.Knowledge.Retrieval;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge.Jobs;

/// <summary>
/// Processes training documents: claims one (a conditional update, so two processors never take the same document),
/// extracts its text, chunks it and hands the chunks to <see cref="DocumentIndexer"/>. The claim is a lease renewed
/// while the processor works, so a document that takes longer than the lease is not taken over by another processor; a
/// document whose processor died is claimed again once its lease ends; one that keeps failing for transient reasons, or
/// keeps killing its processor, fails for good after <see cref="KnowledgeOptions.MaxProcessingAttempts"/> claims. Runs
/// in a system-scoped DI scope.
/// </summary>
sealed class DocumentProcessor(
    AppDbContext db, IDbContextFactory<AppDbContext> contexts, TextExtractor extractor, DocumentIndexer indexer, DocumentFiles files,
    TimeProvider clock, IOptions<KnowledgeOptions> options, ILogger<DocumentProcessor> logger)
{
    TimeSpan Lease => TimeSpan.FromMinutes(options.Value.ProcessingLeaseMinutes);

    /// <summary>Claims and processes up to <paramref name="limit"/> due documents, oldest first; returns how many it claimed.</summary>
    public async Task<int> ProcessDueAsync(int limit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var due = await db.TrainingDocuments.AsNoTracking()
            .Where(d => d.State == TrainingDocumentState.Queued || (d.State == TrainingDocumentState.Processing && d.ClaimExpiresUtc < now))
            .OrderBy(d => d.CreatedUtc).ThenBy(d => d.Id)
            .Select(d => d.Id)
            .Take(limit)
            .ToListAsync(cancellationToken);
        var claimed = 0;
        foreach (var id in due)
        {
            if (await ClaimAsync(id, cancellationToken) is { } claim)
            {
                claimed++;
                await ProcessAsync(id, claim, cancellationToken);
            }
        }
        return claimed;
    }

    /// <summary>Takes a queued document, or one whose processor's lease ran out; null when another processor has it.</summary>
    public async Task<Guid?> ClaimAsync(Guid documentId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var claim = Guid.NewGuid();
        var claimed = await db.TrainingDocuments
            .Where(d => d.Id == documentId
                && (d.State == TrainingDocumentState.Queued || (d.State == TrainingDocumentState.Processing && d.ClaimExpiresUtc < now)))
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, TrainingDocumentState.Processing)
                .SetProperty(d => d.ProcessingClaim, claim)
                .SetProperty(d => d.ClaimExpiresUtc, now.Add(Lease))
                .SetProperty(d => d.Attempts, d => d.Attempts + 1), cancellationToken);
        return claimed == 1 ? claim : null;
    }

    /// <summary>Processes a document this processor claimed, leaving it ready, failed, or queued for another attempt.</summary>
    public async Task ProcessAsync(Guid documentId, Guid claim, CancellationToken cancellationToken)
    {
        var document = await db.TrainingDocuments.AsNoTracking().FirstOrDefaultAsync(d => d.Id == documentId && d.ProcessingClaim == claim, cancellationToken);
        if (document is null)
        {
            return;
        }
        var maxAttempts = options.Value.MaxProcessingAttempts;
        if (document.Attempts > maxAttempts)
        {
            // Earlier claims never finished: the document stops its processor (a crash or a kill), so stop trying.
            await FailAsync(document, claim, $"Processing did not finish after {maxAttempts} attempts.");
            return;
        }
        // Cancelled when the heartbeat finds the claim gone (the document was deleted, or taken over after a renewal
        // failed): the work would be thrown away, so it stops instead of paying for the rest of the embeddings.
        using var claimHeld = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var finished = new CancellationTokenSource();
        var heartbeat = RenewClaimAsync(document.Id, claim, claimHeld, finished.Token);
        try
        {
            await ProcessClaimedAsync(document, claim, claimHeld.Token, cancellationToken);
        }
        finally
        {
            await finished.CancelAsync();
            await heartbeat;
        }
    }

    async Task ProcessClaimedAsync(TrainingDocument document, Guid claim, CancellationToken claimHeld, CancellationToken cancellationToken)
    {
        var maxAttempts = options.Value.MaxProcessingAttempts;
        try
        {
            var (chunks, truncated) = await ChunksOfAsync(document, claimHeld);
            if (chunks.Count == 0)
            {
                await FailAsync(document, claim, document.FileType == TrainingFileType.Pdf
                    ? "The PDF contains no text (a scanned PDF needs OCR before it can be used)."
                    : "The document contains no text.");
                return;
            }
            if (await indexer.ReplaceChunksAsync(document, claim, chunks, truncated, claimHeld))
            {
                logger.LogInformation("Training document {Document} is ready with {Chunks} chunks", document.Id, chunks.Count);
            }
        }
        catch (UnreadableDocumentException unreadable)
        {
            await FailAsync(document, claim, unreadable.Message);
        }
        catch (OutOfMemoryException)
        {
            // Not transient: the same document would take as much memory on every attempt, starving the rest of the process.
            logger.LogWarning("Training document {Document} needs more memory than processing has; it failed for good", document.Id);
            await FailAsync(document, claim, "The document needs more memory to read than this server allows; split it into smaller files.");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping: give the document back without counting the attempt.
            await ReleaseAsync(document, claim, countAttempt: false);
            throw;
        }
        catch (OperationCanceledException) when (claimHeld.IsCancellationRequested)
        {
            logger.LogInformation("Training document {Document} is no longer claimed by this processor; its work is dropped", document.Id);
        }
        catch (Exception exception)
        {
            var reason = exception is EmbeddingUnavailableException ? exception.Message : "An unexpected error occurred while processing the document.";
            logger.LogWarning(exception, "Processing training document {Document} failed (attempt {Attempt} of {Max})", document.Id, document.Attempts, maxAttempts);
            if (document.Attempts >= maxAttempts)
            {
                await FailAsync(document, claim, $"{reason} Retry it later.");
            }
            else
            {
                await ReleaseAsync(document, claim, countAttempt: true);
            }
        }
    }

    /// <summary>
    /// Extends the claim's lease every third of it until <paramref name="finished"/>, so a document whose extraction and
    /// embeddings outlast one lease stays this processor's; cancels <paramref name="claimHeld"/> once the claim is gone.
    /// Its own context: the processor's is busy with the document meanwhile.
    /// </summary>
    async Task RenewClaimAsync(Guid documentId, Guid claim, CancellationTokenSource claimHeld, CancellationToken finished)
    {
        while (!finished.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Lease / 3, clock, finished);
                await using var renewing = await contexts.CreateDbContextAsync(finished);
                var until = clock.GetUtcNow().UtcDateTime.Add(Lease);
                var renewed = await renewing.TrainingDocuments
                    .Where(d => d.Id == documentId && d.State == TrainingDocumentState.Processing && d.ProcessingClaim == claim)
                    .ExecuteUpdateAsync(s => s.SetProperty(d => d.ClaimExpiresUtc, until), finished);
                if (renewed == 0)
                {
                    await claimHeld.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (finished.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The next beat tries again; the lease has two more thirds to run.
                logger.LogWarning(exception, "Renewing the claim on training document {Document} failed", documentId);
            }
        }
    }

    async Task<(List<TextChunk> Chunks, bool Truncated)> ChunksOfAsync(TrainingDocument document, CancellationToken cancellationToken)
    {
        switch (document.Kind)
        {
            case TrainingDocumentKind.Qa:
                return (Chunker.Split([new TextBlock(document.QaText())], document.Title), false);
            case TrainingDocumentKind.Topic:
                // The title heads the text, so the first chunk reads on its own, as under a document's heading.
                var topic = new TextCollector(TextExtractor.MaxCharacters);
                topic.Add(document.Title, isHeading: true);
                topic.AddParagraphs(document.Body ?? "");
                var blocks = topic.Result();
                return (Chunker.Split(blocks.Blocks, document.Title), blocks.Truncated);
            default:
                var path = files.PathOf(document.OrganizationId, document.Id);
                if (!File.Exists(path))
                {
                    throw new UnreadableDocumentException("The uploaded file is missing from storage; upload it again.");
                }
                var text = await extractor.ExtractAsync(document.FileType!.Value, path, cancellationToken);
                await files.WriteTextAsync(document.OrganizationId, document.Id, KnowledgeDocuments.Joined(text), cancellationToken);
                return (Chunker.Split(text.Blocks, documentTitle: null), text.Truncated);
        }
    }

    Task<int> FailAsync(TrainingDocument document, Guid claim, string reason) =>
        db.TrainingDocuments
            .Where(d => d.Id == document.Id && d.ProcessingClaim == claim)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, TrainingDocumentState.Failed)
                .SetProperty(d => d.FailureReason, reason)
                .SetProperty(d => d.ProcessingClaim, (Guid?)null)
                .SetProperty(d => d.ClaimExpiresUtc, (DateTime?)null)
                .SetProperty(d => d.ProcessedUtc, clock.GetUtcNow().UtcDateTime), CancellationToken.None);

    Task<int> ReleaseAsync(TrainingDocument document, Guid claim, bool countAttempt) =>
        db.TrainingDocuments
            .Where(d => d.Id == document.Id && d.ProcessingClaim == claim)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.State, TrainingDocumentState.Queued)
                .SetProperty(d => d.ProcessingClaim, (Guid?)null)
                .SetProperty(d => d.ClaimExpiresUtc, (DateTime?)null)
                .SetProperty(d => d.Attempts, d => d.Attempts - (countAttempt ? 0 : 1)), CancellationToken.None);
}
