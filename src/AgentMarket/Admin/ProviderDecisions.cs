using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

/// <summary>An operator's approval or rejection of a provider application; the reason is shown to the applicant.</summary>
public sealed class ProviderDecisions(AppDbContext db, CurrentTenant tenant, TimeProvider clock, Audit.AuditLog audit)
{
    public async Task<Provider?> DecideAsync(Guid providerId, ProviderState decision, string? reason, CancellationToken ct)
    {
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.Id == providerId, ct);
        if (provider is null)
        {
            return null;
        }
        audit.Record(decision == ProviderState.Approved ? Audit.AuditActions.ProviderApproved : Audit.AuditActions.ProviderRejected,
            provider.OrganizationId, "provider", provider.Id, before: new { state = provider.State }, after: new { state = decision, reason });
        provider.State = decision;
        provider.DecisionReason = decision == ProviderState.Rejected ? reason : null;
        provider.DecidedUtc = clock.GetUtcNow().UtcDateTime;
        provider.DecidedByUserId = tenant.UserId;
        await db.SaveChangesAsync(ct);
        return provider;
    }
}
