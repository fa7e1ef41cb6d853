using AgentMarket.Catalog.Reviews;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Moderation;

/// <summary>An operator's decisions on listings awaiting review and on reported reviews.</summary>
public sealed class ListingModeration(AppDbContext db, ListingReviews reviews, CurrentTenant tenant, TimeProvider clock)
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
        listing.State = ListingState.Active;
        Webhooks.WebhookEvents.Publish(db, listing, clock.GetUtcNow().UtcDateTime);
        listing.ModerationNote = null;
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
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>Closes every open report of the review; with <paramref name="removeReview"/>, also takes the review down.</summary>
    public async Task<Outcome> ResolveReportAsync(Guid reportId, bool removeReview, CancellationToken ct)
    {
        var report = await db.ReviewReports.FirstOrDefaultAsync(r => r.Id == reportId, ct);
        if (report is null)
        {
            return Outcome.NotFound;
        }
        if (report.ResolvedUtc is not null)
        {
            return Outcome.WrongState;
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var operatorId = tenant.UserId;
        if (removeReview)
        {
            // The reports go with the review (cascade); nothing is left open for it.
            await reviews.RemoveAsync(report.ReviewId, ct);
            return Outcome.Done;
        }
        await db.ReviewReports.Where(r => r.ReviewId == report.ReviewId && r.ResolvedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.ResolvedUtc, now).SetProperty(r => r.ResolvedByUserId, operatorId), ct);
        return Outcome.Done;
    }
}
