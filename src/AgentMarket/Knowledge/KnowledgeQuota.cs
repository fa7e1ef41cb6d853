using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Knowledge;

/// <summary>
/// The plan's limits on training documents: a count per plan (<see cref="KnowledgeOptions.MaxDocumentsPerPlan"/>) and
/// the plan's storage (<see cref="Plan.StorageGb"/>, in GiB). Checked inside the transaction that adds the document,
/// after <see cref="LockAsync"/>, so concurrent uploads of one organization cannot both take the last slot.
/// </summary>
sealed class KnowledgeQuota(AppDbContext db, IOptions<KnowledgeOptions> options)
{
    // Advisory-lock key space of this check; the second key is derived from the organization.
    const int PostgresLockSpace = 0x4B42; // "KB"

    public sealed record Usage(int Documents, long Bytes, int MaxDocuments, long MaxBytes);

    /// <summary>Serialises quota checks of one organization until the current transaction ends.</summary>
    public Task LockAsync(Guid organizationId, CancellationToken cancellationToken) =>
        db.Database.LockOrganizationAsync(PostgresLockSpace, organizationId, cancellationToken);

    public async Task<Usage> UsageAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        var planCode = await db.OrganizationPlans.Where(p => p.OrganizationId == organizationId).Select(p => p.PlanCode).FirstOrDefaultAsync(cancellationToken) ?? Plan.Free;
        var storageGb = await db.Plans.Where(p => p.Code == planCode).Select(p => (int?)p.StorageGb).FirstOrDefaultAsync(cancellationToken) ?? 0;
        var documents = db.TrainingDocuments.Where(d => d.OrganizationId == organizationId);
        return new Usage(
            await documents.CountAsync(cancellationToken),
            await documents.SumAsync(d => d.SizeBytes, cancellationToken),
            options.Value.MaxDocumentsFor(planCode),
            storageGb * 1024L * 1024 * 1024);
    }

    /// <summary>Null when one more document of <paramref name="bytes"/> fits the plan, else the refusal.</summary>
    public static KnowledgeFailure? Refusal(Usage usage, long bytes)
    {
        if (usage.Documents + 1 > usage.MaxDocuments)
        {
            return new KnowledgeFailure(StatusCodes.Status403Forbidden, KnowledgeProblems.DocumentLimitReached,
                $"Your plan allows {usage.MaxDocuments} training documents; delete some or upgrade the plan.",
                new Dictionary<string, object?> { ["limit"] = usage.MaxDocuments, ["used"] = usage.Documents });
        }
        if (usage.Bytes + bytes > usage.MaxBytes)
        {
            return new KnowledgeFailure(StatusCodes.Status403Forbidden, KnowledgeProblems.StorageLimitReached,
                "This document does not fit in your plan's storage; delete some documents or upgrade the plan.",
                new Dictionary<string, object?> { ["limit_bytes"] = usage.MaxBytes, ["used_bytes"] = usage.Bytes, ["document_bytes"] = bytes });
        }
        return null;
    }
}
