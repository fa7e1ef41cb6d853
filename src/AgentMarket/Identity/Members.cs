using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Identity;

/// <summary>Role changes and removals in the current organization, with the rule that one owner always remains.</summary>
public sealed class Members(AppDbContext db, CurrentTenant tenant, AuditLog audit)
{
    public async Task<(Membership? Membership, Accounts.Failure? Failure)> ChangeRoleAsync(Guid membershipId, MembershipRole role, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        if (!tenant.HasRole(MembershipRole.Owner))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Only owners can change roles."));
        }
        await using var transaction = await BeginLockedAsync(organizationId, ct);
        var membership = await db.Memberships.Include(m => m.User).FirstOrDefaultAsync(m => m.Id == membershipId && m.OrganizationId == organizationId, ct);
        if (membership is null)
        {
            return (null, NotFound());
        }
        if (membership.Role == MembershipRole.Owner && role != MembershipRole.Owner && await IsLastOwnerAsync(organizationId, ct))
        {
            return (null, LastOwner());
        }
        if (membership.Role != role)
        {
            audit.Record(AuditActions.MemberRoleChanged, organizationId, "membership", membership.Id,
                before: new { user = membership.UserId, membership.User!.Email, role = membership.Role }, after: new { role });
        }
        membership.Role = role;
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (membership, null);
    }

    /// <summary>Owners remove anyone; every member may leave.</summary>
    public async Task<(Membership? Removed, Accounts.Failure? Failure)> RemoveAsync(Guid membershipId, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        await using var transaction = await BeginLockedAsync(organizationId, ct);
        var membership = await db.Memberships.FirstOrDefaultAsync(m => m.Id == membershipId && m.OrganizationId == organizationId, ct);
        if (membership is null)
        {
            return (null, NotFound());
        }
        if (membership.UserId != tenant.UserId && !tenant.HasRole(MembershipRole.Owner))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, ProblemCodes.InsufficientRole, "Only owners can remove other members."));
        }
        if (membership.Role == MembershipRole.Owner && await IsLastOwnerAsync(organizationId, ct))
        {
            return (null, LastOwner());
        }
        db.Memberships.Remove(membership);
        audit.Record(AuditActions.MemberRemoved, organizationId, "membership", membership.Id, before: new { user = membership.UserId, role = membership.Role });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (membership, null);
    }

    /// <summary>
    /// The owners are counted and the role changed (or the member removed) in one transaction that holds the organization,
    /// so two owners demoting or removing each other at once take turns, and the second sees it would leave none. SQLite's
    /// transactions take its one write lock when they begin; on PostgreSQL the organization's row is locked FOR NO KEY
    /// UPDATE, which still lets rows referencing it (memberships, projects) be inserted meanwhile.
    /// </summary>
    async Task<IDbContextTransaction> BeginLockedAsync(Guid organizationId, CancellationToken ct)
    {
        var transaction = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM organizations WHERE id = {organizationId} FOR NO KEY UPDATE", ct);
        }
        return transaction;
    }

    async Task<bool> IsLastOwnerAsync(Guid organizationId, CancellationToken ct) =>
        await db.Memberships.CountAsync(m => m.OrganizationId == organizationId && m.Role == MembershipRole.Owner, ct) <= 1;

    static Accounts.Failure NotFound() => new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The member was not found.");

    static Accounts.Failure LastOwner() => new(StatusCodes.Status409Conflict, ProblemCodes.LastOwner, "An organization needs at least one owner.");
}
