using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Featured;

/// <summary>An operator's view of a featured listing: <see cref="Shown"/> is false while the listing is not live.</summary>
public sealed record FeaturedListingView(Guid Listing, string Slug, string Name, string ProviderHandle, int Position, bool Shown, DateTime Featured);

/// <summary>The storefront's "Featured" row and the operator's changes to it (audited).</summary>
public sealed class FeaturedListings(AppDbContext db, CurrentTenant tenant, AuditLog audit, TimeProvider clock)
{
    /// <summary>The row shows at most this many cards.</summary>
    public const int RowSize = 8;

    public enum Outcome
    {
        Done,
        NotFound,
        NotPublished,
    }

    /// <summary>The live featured listings' cards, in the operator's order (ties: the earlier featured first).</summary>
    public async Task<List<AgentCard>> RowAsync(CancellationToken ct)
    {
        var order = await db.FeaturedListings.AsNoTracking()
            .Where(f => Live().Any(l => l.Id == f.ListingId))
            .OrderBy(f => f.Position).ThenBy(f => f.FeaturedUtc).ThenBy(f => f.ListingId)
            .Select(f => f.ListingId).Take(RowSize).ToListAsync(ct);
        var cards = (await CatalogQueries.CardRows(db.Listings.AsNoTracking().Where(l => order.Contains(l.Id))).ToListAsync(ct))
            .ToDictionary(r => r.Id, r => r.ToCard());
        return order.Where(cards.ContainsKey).Select(id => cards[id]).ToList();
    }

    /// <summary>Every featured listing, live or not, in order.</summary>
    public Task<List<FeaturedListingView>> ListAsync(CancellationToken ct)
    {
        var live = Live();
        return db.FeaturedListings.AsNoTracking()
            .Join(db.Listings, f => f.ListingId, l => l.Id, (f, l) => new { f, l })
            .OrderBy(x => x.f.Position).ThenBy(x => x.f.FeaturedUtc).ThenBy(x => x.f.ListingId)
            .Select(x => new FeaturedListingView(x.l.Id, x.l.Slug, x.l.Name, x.l.Provider!.Handle, x.f.Position, live.Any(l => l.Id == x.l.Id), x.f.FeaturedUtc))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Features a live listing at <paramref name="position"/> (default: after the last), or moves one already featured.
    /// Only a live listing can be featured: the row would not show anything else.
    /// </summary>
    public async Task<(Outcome Outcome, FeaturedListingView? View)> FeatureAsync(Guid listingId, int? position, CancellationToken ct)
    {
        if (!await db.Listings.AnyAsync(l => l.Id == listingId, ct))
        {
            return (Outcome.NotFound, null);
        }
        if (!await Live().AnyAsync(l => l.Id == listingId, ct))
        {
            return (Outcome.NotPublished, null);
        }
        var featured = await db.FeaturedListings.FirstOrDefaultAsync(f => f.ListingId == listingId, ct);
        if (featured is not null && (position ?? featured.Position) == featured.Position)
        {
            return (Outcome.Done, (await ListAsync(ct)).Single(v => v.Listing == listingId)); // already there: nothing to move or audit
        }
        var before = featured is null ? null : new { position = featured.Position };
        var next = position ?? (await db.FeaturedListings.MaxAsync(f => (int?)f.Position, ct) ?? 0) + 1;
        if (featured is null)
        {
            db.FeaturedListings.Add(new FeaturedListing { ListingId = listingId, Position = next, FeaturedUtc = clock.GetUtcNow().UtcDateTime, FeaturedByUserId = tenant.UserId });
        }
        else
        {
            featured.Position = next;
        }
        audit.Record(AuditActions.ListingFeatured, await OwnerAsync(listingId, ct), "listing", listingId, before, new { position = next });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException) when (featured is null)
        {
            // A concurrent request featured it first (or the listing went): start again, as a move of that row.
            db.ChangeTracker.Clear();
            return await FeatureAsync(listingId, position, ct);
        }
        return (Outcome.Done, (await ListAsync(ct)).Single(v => v.Listing == listingId));
    }

    /// <summary>Takes a listing out of the row.</summary>
    public async Task<Outcome> UnfeatureAsync(Guid listingId, CancellationToken ct)
    {
        var featured = await db.FeaturedListings.FirstOrDefaultAsync(f => f.ListingId == listingId, ct);
        if (featured is null)
        {
            return Outcome.NotFound;
        }
        db.FeaturedListings.Remove(featured);
        audit.Record(AuditActions.ListingUnfeatured, await OwnerAsync(listingId, ct), "listing", listingId, new { position = featured.Position }, null);
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>Listings the storefront shows: active, public, and not of a suspended organization.</summary>
    IQueryable<Listing> Live() =>
        db.Listings.Where(l => l.State == ListingState.Active && l.Visibility == ListingVisibility.Public
            && !db.Organizations.Any(o => o.Id == l.OrganizationId && o.SuspendedUtc != null));

    Task<Guid> OwnerAsync(Guid listingId, CancellationToken ct) =>
        db.Listings.Where(l => l.Id == listingId).Select(l => l.OrganizationId).FirstAsync(ct);
}
