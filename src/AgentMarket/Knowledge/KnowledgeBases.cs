using AgentMarket.Platform.Data;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Knowledge;

/// <summary>
/// Renaming and deleting an organization's knowledge bases. One an agent still answers from (an active subscription's,
/// or a provider agent's) is not deleted: the agent would lose its knowledge without a word. Through the tenant
/// filter, another organization's base is simply not found.
/// </summary>
sealed class KnowledgeBases(AppDbContext db, TrainingDocuments documents)
{
    public sealed record Failure(int Status, string Code, string Message, IReadOnlyList<string>? UsedBy = null);

    public async Task<(KnowledgeBase? KnowledgeBase, Failure? Failure)> RenameAsync(Guid id, string name, CancellationToken ct)
    {
        var knowledgeBase = await db.KnowledgeBases.FirstOrDefaultAsync(k => k.Id == id, ct);
        if (knowledgeBase is null)
        {
            return (null, NotFound());
        }
        knowledgeBase.Name = name.Trim();
        await db.SaveChangesAsync(ct);
        return (knowledgeBase, null);
    }

    /// <summary>
    /// Deletes the base with its documents, their chunks and full-text entries (by cascade) and their files. The in-use
    /// check and the delete are one transaction holding the base's row (<see cref="LockedAsync"/>), so a subscription
    /// or provider agent pointed at the base meanwhile either is seen by the check or, coming after, finds the base gone.
    /// </summary>
    public async Task<Failure?> DeleteAsync(Guid id, CancellationToken ct)
    {
        List<(Guid Id, Guid OrganizationId)> filesOf;
        await using (var transaction = await db.Database.BeginTransactionAsync(ct))
        {
            if (!await LockedAsync(db, id, forDelete: true, ct))
            {
                return NotFound();
            }
            var usedBy = await db.CustomerAgentConfigs.Where(c => c.KnowledgeBaseId == id && c.State != SubscriptionState.Terminated).Select(c => c.Name)
                .Concat(db.ProviderAgents.Where(a => a.KnowledgeBaseId == id).Select(a => a.Name))
                .OrderBy(name => name).ToListAsync(ct);
            if (usedBy.Count > 0)
            {
                return new Failure(StatusCodes.Status409Conflict, KnowledgeProblems.KnowledgeBaseInUse,
                    $"Agents answer from this knowledge base: {string.Join(", ", usedBy)}. Unsubscribe, or choose another base for them, first.", usedBy);
            }
            filesOf = (await db.TrainingDocuments.AsNoTracking().Where(d => d.KnowledgeBaseId == id && d.Kind == TrainingDocumentKind.File)
                .Select(d => new { d.Id, d.OrganizationId }).ToListAsync(ct)).Select(d => (d.Id, d.OrganizationId)).ToList();
            // Ended subscriptions may still name it; they have nothing left to answer.
            await db.CustomerAgentConfigs.Where(c => c.KnowledgeBaseId == id && c.State == SubscriptionState.Terminated)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.KnowledgeBaseId, (Guid?)null), ct);
            await db.TrainingDocuments.Where(d => d.KnowledgeBaseId == id).ExecuteDeleteAsync(ct);
            await db.KnowledgeBases.Where(k => k.Id == id).ExecuteDeleteAsync(ct);
            await transaction.CommitAsync(ct);
        }
        foreach (var (file, organization) in filesOf)
        {
            documents.DeleteFile(organization, file);
        }
        return null;
    }

    /// <summary>
    /// Whether the caller's organization has the base, holding its row until the current transaction ends: to delete it
    /// (<paramref name="forDelete"/>), or to point an agent at it, which a delete then waits for (PostgreSQL FOR UPDATE
    /// against FOR KEY SHARE). SQLite's transactions take its one write lock when they begin, which serialises both.
    /// </summary>
    public static async Task<bool> LockedAsync(AppDbContext db, Guid id, bool forDelete, CancellationToken ct)
    {
        // The tenant filter makes this an ownership check: another organization's base is not found.
        if (!await db.KnowledgeBases.AnyAsync(k => k.Id == id, ct))
        {
            return false;
        }
        if (db.Database.IsNpgsql())
        {
            var locked = forDelete
                ? await db.Database.SqlQuery<Guid>($"SELECT id AS \"Value\" FROM knowledge_bases WHERE id = {id} FOR UPDATE").ToListAsync(ct)
                : await db.Database.SqlQuery<Guid>($"SELECT id AS \"Value\" FROM knowledge_bases WHERE id = {id} FOR KEY SHARE").ToListAsync(ct);
            return locked.Count > 0;
        }
        return true;
    }

    static Failure NotFound() => new(StatusCodes.Status404NotFound, Platform.Errors.ProblemCodes.NotFound, "The knowledge base was not found.");
}
