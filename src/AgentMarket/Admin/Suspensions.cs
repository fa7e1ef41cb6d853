using AgentMarket.Audit;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Keys;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin;

/// <summary>
/// Suspending and reactivating an organization. A suspension stops the organization's agent keys and widget keys on
/// every door (the key lookup refuses them) and its members' runs and purchases (the gateway and checkout refuse them);
/// members still sign in and see why. A provider's live listings leave the catalog and stop running (their subscribers'
/// runs too), and its agents cannot be changed, until it is reactivated. Nothing is deleted. This node forgets its cached keys and gateway entries at once;
/// other replicas within their caches' second.
/// </summary>
public sealed class Suspensions(AppDbContext db, AuditLog audit, ApiKeyDirectory keys, TimeProvider clock)
{
    public async Task<Organization?> SuspendAsync(Guid organizationId, string reason, CancellationToken ct)
    {
        var organization = await db.Organizations.FirstOrDefaultAsync(o => o.Id == organizationId, ct);
        if (organization is null)
        {
            return null;
        }
        if (organization.SuspendedUtc is not null && organization.SuspensionReason == reason)
        {
            return organization; // suspended already, for this reason: nothing changes, nothing is audited again
        }
        audit.Record(AuditActions.OrganizationSuspended, organization.Id, "organization", organization.Id,
            before: new { suspended = organization.SuspendedUtc is not null, reason = organization.SuspensionReason },
            after: new { suspended = true, reason });
        organization.SuspendedUtc ??= clock.GetUtcNow().UtcDateTime;
        organization.SuspensionReason = reason;
        // Tracked, not a bulk update: saving tells the gateway's cache (GatewayCacheInvalidation) the listings changed.
        foreach (var listing in await db.Listings.Where(l => l.OrganizationId == organizationId && l.State == ListingState.Active).ToListAsync(ct))
        {
            listing.State = ListingState.Suspended;
        }
        await db.SaveChangesAsync(ct); // the gateway cache drops the organization's entry on save (GatewayCacheInvalidation)
        keys.Forget();
        return organization;
    }

    public async Task<Organization?> ReactivateAsync(Guid organizationId, CancellationToken ct)
    {
        var organization = await db.Organizations.FirstOrDefaultAsync(o => o.Id == organizationId, ct);
        if (organization is null)
        {
            return null;
        }
        if (organization.SuspendedUtc is not null)
        {
            audit.Record(AuditActions.OrganizationReactivated, organization.Id, "organization", organization.Id,
                before: new { suspended = true, reason = organization.SuspensionReason }, after: new { suspended = false });
            organization.SuspendedUtc = null;
            organization.SuspensionReason = null;
            // A listing approved or restored during the suspension was never live: this is its publication.
            var now = clock.GetUtcNow().UtcDateTime;
            foreach (var listing in await db.Listings.Where(l => l.OrganizationId == organizationId && l.State == ListingState.Suspended).ToListAsync(ct))
            {
                ListingPublication.GoLive(db, listing, now);
            }
            await db.SaveChangesAsync(ct);
            keys.Forget();
        }
        return organization;
    }
}
