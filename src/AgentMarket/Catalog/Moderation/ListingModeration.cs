using AgentMarket.Catalog.Reviews;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Moderation;

/// <summary>An operator's decisions on listings (awaiting review, or live and taken down) and on reported reviews.</summary>
public sealed class ListingModeration(AppDbContext db, ListingReviews reviews, CurrentTenant tenant, TimeProvider clock, Audit.AuditLog audit)
{
    public enum Outcome
    {
        Done,
        NotFound,
        WrongState,
    }

    /// <summary>Approves a listing waiting in <c>pending_review</c>: it goes live.</summary>
    public async Task<Outcome> ApproveAsync(Guid listingId, CancellationToken ct)
    {
        var listing = await db.Listings.FirstOrDefaultAsync(l => l.Id == listingId, ct);
        if (listing is null)
        {
            return Outcome.NotFound;
        }
        if (listing.State != ListingState.PendingReview)
        {
            return Outcome.WrongState;
        }
        await PutLiveAsync(listing, ct);
        if (listing.State == ListingState.Active)
        {
            Webhooks.WebhookEvents.Publish(db, listing, clock.GetUtcNow().UtcDateTime);
        }
        listing.ModerationNote = null;
        audit.Record(Audit.AuditActions.ListingApproved, await OwnerOrganizationAsync(listing, ct), "listing", listing.Id,
            before: new { state = ListingState.PendingReview }, after: new { state = listing.State });
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>Sends a listing under review back to draft with the reason, which its provider sees; they fix it and submit again.</summary>
    public async Task<Outcome> RejectAsync(Guid listingId, string reason, CancellationToken ct)
    {
        var listing = await db.Listings.FirstOrDefaultAsync(l => l.Id == listingId, ct);
        if (listing is null)
        {
            return Outcome.NotFound;
        }
        if (listing.State != ListingState.PendingReview)
        {
            return Outcome.WrongState;
        }
        listing.State = ListingState.Draft;
        listing.ModerationNote = reason.Trim();
        audit.Record(Audit.AuditActions.ListingRejected, await OwnerOrganizationAsync(listing, ct), "listing", listing.Id,
            before: new { state = ListingState.PendingReview }, after: new { state = listing.State, reason = listing.ModerationNote });
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>
    /// Takes a live listing (active or paused) down with the reason, which its provider sees: it leaves the catalog, its
    /// subscribers' runs stop, and its provider can no longer change it, until an operator restores it.
    /// </summary>
    public async Task<Outcome> TakeDownAsync(Guid listingId, string reason, CancellationToken ct)
    {
        // Tracked, not a bulk update: saving tells the gateway's cache (GatewayCacheInvalidation) the listing changed.
        var listing = await db.Listings.FirstOrDefaultAsync(l => l.Id == listingId, ct);
        if (listing is null)
        {
            return Outcome.NotFound;
        }
        // A suspended organization's listing too: taken down, the reactivation does not bring it back.
        if (listing.State is not (ListingState.Active or ListingState.Paused or ListingState.Suspended))
        {
            return Outcome.WrongState;
        }
        var before = listing.State;
        listing.State = ListingState.TakenDown;
        listing.ModerationNote = reason.Trim();
        audit.Record(Audit.AuditActions.ListingTakenDown, await OwnerOrganizationAsync(listing, ct), "listing", listing.Id,
            before: new { state = before }, after: new { state = listing.State, reason = listing.ModerationNote });
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>
    /// Puts a taken-down listing back live and clears the reason; if its organization is suspended meanwhile, it waits
    /// in <see cref="ListingState.Suspended"/> and goes live with the reactivation.
    /// </summary>
    public async Task<Outcome> RestoreAsync(Guid listingId, CancellationToken ct)
    {
        var listing = await db.Listings.FirstOrDefaultAsync(l => l.Id == listingId, ct);
        if (listing is null)
        {
            return Outcome.NotFound;
        }
        if (listing.State != ListingState.TakenDown)
        {
            return Outcome.WrongState;
        }
        var reason = listing.ModerationNote;
        await PutLiveAsync(listing, ct);
        listing.ModerationNote = null;
        audit.Record(Audit.AuditActions.ListingRestored, await OwnerOrganizationAsync(listing, ct), "listing", listing.Id,
            before: new { state = ListingState.TakenDown, reason }, after: new { state = listing.State });
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>Puts a listing live; while its organization is suspended it waits, with its other live ones, for the reactivation.</summary>
    async Task PutLiveAsync(Listing listing, CancellationToken ct) =>
        listing.State = await db.Organizations.IsSuspendedAsync(listing.OrganizationId, ct) ? ListingState.Suspended : ListingState.Active;

    Task<Guid> OwnerOrganizationAsync(Listing listing, CancellationToken ct) =>
        db.Providers.Where(p => p.Id == listing.ProviderId).Select(p => p.OrganizationId).FirstAsync(ct);

    /// <summary>
    /// Hides a review (reported or not): it leaves the listing's page and rating, its open reports close, and the reason is
    /// audited. <see cref="Outcome.WrongState"/> when it is already hidden.
    /// </summary>
    public async Task<Outcome> HideReviewAsync(Guid reviewId, string reason, CancellationToken ct)
    {
        var review = await db.Reviews.AsNoTracking().FirstOrDefaultAsync(r => r.Id == reviewId, ct);
        if (review is null)
        {
            return Outcome.NotFound;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        if (!await reviews.HideAsync(review, reason.Trim(), ct))
        {
            return Outcome.WrongState;
        }
        var closed = await CloseReportsAsync(reviewId, ct);
        audit.Record(Audit.AuditActions.ReviewHidden, review.OrganizationId, "review", reviewId,
            before: new { hidden = false, listing = review.ListingId, rating = review.Rating },
            after: new { hidden = true, reason = reason.Trim(), reports_closed = closed });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Outcome.Done;
    }

    /// <summary>Closes a review's open reports and keeps the review; <see cref="Outcome.WrongState"/> when none is open.</summary>
    public async Task<Outcome> DismissReportsAsync(Guid reviewId, string reason, CancellationToken ct)
    {
        var review = await db.Reviews.AsNoTracking().FirstOrDefaultAsync(r => r.Id == reviewId, ct);
        if (review is null)
        {
            return Outcome.NotFound;
        }
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var closed = await CloseReportsAsync(reviewId, ct);
        if (closed == 0)
        {
            return Outcome.WrongState;
        }
        audit.Record(Audit.AuditActions.ReviewReportsDismissed, review.OrganizationId, "review", reviewId,
            after: new { reason = reason.Trim(), reports_closed = closed });
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return Outcome.Done;
    }

    Task<int> CloseReportsAsync(Guid reviewId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var operatorId = tenant.UserId;
        return db.ReviewReports.Where(r => r.ReviewId == reviewId && r.ResolvedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResolvedUtc, now).SetProperty(r => r.ResolvedByUserId, operatorId), ct);
    }

    /// <summary>
    /// Reviews with open reports, the longest-waiting first: the review, its listing, how many users reported it and
    /// why. Hidden reviews have none (hiding closes them).
    /// </summary>
    public async Task<Page<ReportedReview>> ReportedReviewsAsync(PageRequest page, CancellationToken ct)
    {
        var open = db.ReviewReports.Where(r => r.ResolvedUtc == null);
        var reported = db.Reviews.AsNoTracking().Where(v => open.Any(r => r.ReviewId == v.Id));
        var total = await reported.CountAsync(ct);
        var rows = await reported
            .Select(v => new { Review = v, FirstReported = open.Where(r => r.ReviewId == v.Id).Min(r => r.CreatedUtc) })
            .OrderBy(x => x.FirstReported).ThenBy(x => x.Review.Id)
            .Skip(page.Offset).Take(page.Limit)
            .Join(db.Listings, x => x.Review.ListingId, l => l.Id, (x, l) => new { x.Review, x.FirstReported, l.Slug, l.Name })
            .Join(db.Users, x => x.Review.UserId, u => u.Id, (x, u) => new { x.Review, x.FirstReported, x.Slug, x.Name, Author = u.Name })
            .ToListAsync(ct);
        var ids = rows.ConvertAll(r => r.Review.Id);
        var reasons = await open.Where(r => ids.Contains(r.ReviewId))
            .Join(db.Users, r => r.ReporterUserId, u => u.Id, (r, u) => new { r.ReviewId, Reason = new ReportReason(r.Id, r.Reason, u.Email, r.CreatedUtc) })
            .ToListAsync(ct);
        var items = rows.OrderBy(r => r.FirstReported).ThenBy(r => r.Review.Id).Select(r =>
        {
            var mine = reasons.Where(x => x.ReviewId == r.Review.Id).Select(x => x.Reason).OrderBy(x => x.Created).ToList();
            return new ReportedReview(r.Review.Id, new ReportedListing(r.Review.ListingId, r.Slug, r.Name), r.Review.Rating, r.Review.Text, r.Author,
                r.Review.CreatedUtc, mine.Count, mine, r.FirstReported);
        }).ToList();
        return new Page<ReportedReview>(items, total, page.Limit, page.Offset);
    }
}

public sealed record ReportedListing(Guid Uuid, string Slug, string Name);
public sealed record ReportReason(Guid Uuid, string Reason, string Reporter, DateTime Created);

/// <summary>A review with open reports, as the console lists it; <see cref="Uuid"/> is the review's.</summary>
public sealed record ReportedReview(
    Guid Uuid, ReportedListing Listing, int Rating, string ReviewText, string Author, DateTime ReviewCreated, int ReportersCount,
    IReadOnlyList<ReportReason> Reports, DateTime FirstReported);
