using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>The settings an owner changes on the current organization (its name), audited; the API and the organization page share it.</summary>
public sealed class OrganizationSettingsChanges(AppDbContext db, CurrentTenant tenant, AuditLog audit)
{
    /// <summary>Renames the organization; the name it already has changes nothing and leaves no audit entry.</summary>
    public async Task<(Organization? Organization, Accounts.Failure? Failure)> RenameAsync(string name, CancellationToken ct)
    {
        if (!tenant.HasRole(MembershipRole.Owner))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Only owners can rename the organization."));
        }
        var organizationId = tenant.RequiredOrganizationId;
        var organization = await db.Organizations.FirstAsync(o => o.Id == organizationId, ct);
        var renamed = name.Trim();
        audit.RecordChanges(AuditActions.OrganizationRenamed, organization.Id, "organization", organization.Id, new { organization.Name }, new { Name = renamed });
        organization.Name = renamed;
        await db.SaveChangesAsync(ct);
        return (organization, null);
    }
}
