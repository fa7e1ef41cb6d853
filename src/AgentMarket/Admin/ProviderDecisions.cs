using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

/// <summary>An operator's approval or rejection of a provider application; the reason is shown to the applicant.</summary>
public sealed class ProviderDecisions(AppDbContext db, CurrentTenant tenant, TimeProvider clock, Audit.AuditLog audit)
{
    /// <summary>
    /// Decides, or changes an earlier decision (the API allows it). The decision the provider already has, with the same
    /// reason, changes nothing: it is neither saved nor audited again.
    /// </summary>
    public async Task<Provider?> DecideAsync(Guid providerId, ProviderState decision, string? reason, CancellationToken ct)
    {
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, ct);
        if (provider is null)
        {
            return null;
        }
        var decisionReason = decision == ProviderState.Rejected ? reason : null;
        if (provider.State == decision && provider.DecisionReason == decisionReason)
        {
            return provider;
        }
        audit.Record(decision == ProviderState.Approved ? Audit.AuditActions.ProviderApproved : Audit.AuditActions.ProviderRejected,
            provider.OrganizationId, "provider", provider.Id, before: new { state = provider.State, reason = provider.DecisionReason }, after: new { state = decision, reason = decisionReason });
        provider.State = decision;
        provider.DecisionReason = decisionReason;
        provider.DecidedUtc = clock.GetUtcNow().UtcDateTime;
        provider.DecidedByUserId = tenant.UserId;
        await db.SaveChangesAsync(ct);
        return provider;
    }
}
