using AgentMarket.Catalog.SocialProof;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Reviews;

/// <summary>
/// The review rules (SPEC §2): an organization that completed a run of an agent may review it once (1–5 stars and
/// text, editable); the provider may reply publicly; any signed-in user may report a review; an operator may hide it. The listing's stored
/// review count and rating total change in the same transaction as the review.
/// </summary>
public sealed class ListingReviews(AppDbContext db, CurrentTenant tenant, Gateway.RunProjector projector, TimeProvider clock)
{
    public const int MaxTextLength = 5000;

    /// <summary>What the signed-in organization may do with a listing's reviews (for the agent page).</summary>
    public sealed record Standing(bool MayReview, Review? Own, bool IsProvider);

    public async Task<Standing> StandingAsync(Listing listing, CancellationToken ct)
    {
        if (tenant.OrganizationId is not { } organizationId)
        {
            return new Standing(false, null, false);
        }
        if (listing.OrganizationId == organizationId)
        {
            return new Standing(false, null, true);
        }
        var own = await db.Reviews.AsNoTracking().FirstOrDefaultAsync(r => r.ListingId == listing.Id && r.OrganizationId == organizationId, ct);
        return new Standing(own is null && await HasUsedAsync(listing.Id, organizationId, ct), own, false);
    }

    public async Task<(Review? Review, Accounts.Failure? Failure)> CreateAsync(Guid listingId, int? rating, string? text, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var listing = await db.Listings.AsNoTracking().FirstOrDefaultAsync(l => l.Id == listingId && l.State != ListingState.Archived, ct);
        if (listing is null || (listing.Visibility != ListingVisibility.Public && listing.OrganizationId != organizationId))
        {
            return (null, NotFound("agent"));
        }
        if (Invalid(rating, text, ratingRequired: true) is { } invalid)
        {
            return (null, invalid);
        }
        // An operator took it out of the catalog (taken down, or its seller suspended): nobody can read new reviews there.
        if (listing.State is ListingState.TakenDown or ListingState.Suspended)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, CatalogProblemCodes.ListingStateConflict,
                "This agent is not in the catalog now, so it cannot be reviewed."));
        }
        if (listing.OrganizationId == organizationId)
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, CatalogProblemCodes.OwnListing, "Providers do not review their own agents."));
        }
        if (!await HasUsedAsync(listingId, organizationId, ct))
        {
            return (null, new Accounts.Failure(StatusCodes.Status403Forbidden, CatalogProblemCodes.ReviewRequiresRun,
                "Only organizations that have completed a run of this agent, as its subscriber or paying for the run, can review it."));
        }
        if (await db.Reviews.AnyAsync(r => r.ListingId == listingId && r.OrganizationId == organizationId, ct))
        {
            return (null, AlreadyReviewed());
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var review = new Review
        {
            ListingId = listingId,
            OrganizationId = organizationId,
            UserId = tenant.UserId!.Value,
            Rating = rating!.Value,
            Text = text?.Trim() ?? "",
            CreatedUtc = now,
            UpdatedUtc = now,
        };
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        db.Reviews.Add(review);
        Webhooks.WebhookEvents.ReviewCreated(db, review, listing.OrganizationId);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // A concurrent review by the same organization won the unique index.
            return (null, AlreadyReviewed());
        }
        await AdjustCountersAsync(listingId, reviews: 1, stars: review.Rating, ct);
        await transaction.CommitAsync(ct);
        return (review, null);
    }

    public async Task<(Review? Review, Accounts.Failure? Failure)> UpdateAsync(Guid reviewId, int? rating, string? text, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var review = await db.Reviews.FirstOrDefaultAsync(r => r.Id == reviewId && r.OrganizationId == organizationId, ct);
        if (review is null)
        {
            return (null, NotFound("review"));
        }
        if (Invalid(rating, text, ratingRequired: false) is { } invalid)
        {
            return (null, invalid);
        }
        // A hidden review no longer counts, so its new stars do not either.
        var change = rating is { } stars && review.HiddenUtc is null ? stars - review.Rating : 0;
        review.Rating = rating ?? review.Rating;
        review.Text = text?.Trim() ?? review.Text;
        review.UpdatedUtc = clock.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.SaveChangesAsync(ct);
        await AdjustCountersAsync(review.ListingId, reviews: 0, stars: change, ct);
        await transaction.CommitAsync(ct);
        return (review, null);
    }

    /// <summary>The provider's public answer; an empty text removes it. Only the listing's own organization may reply.</summary>
    public async Task<(Review? Review, Accounts.Failure? Failure)> ReplyAsync(Guid reviewId, string? text, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var review = await db.Reviews
            .Where(r => r.Id == reviewId && db.Listings.Any(l => l.Id == r.ListingId && l.OrganizationId == organizationId))
            .FirstOrDefaultAsync(ct);
        if (review is null)
        {
            return (null, NotFound("review"));
        }
        if (text is { Length: > MaxTextLength })
        {
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"Keep the reply under {MaxTextLength:N0} characters.", "text"));
        }
        var reply = string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        review.ProviderReply = reply;
        review.ProviderReplyUtc = reply is null ? null : clock.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(ct);
        return (review, null);
    }

    public async Task<(ReviewReport? Report, Accounts.Failure? Failure)> ReportAsync(Guid reviewId, string? reason, CancellationToken ct)
    {
        var userId = tenant.UserId!.Value;
        if (!await db.Reviews.AnyAsync(r => r.Id == reviewId && r.HiddenUtc == null, ct))
        {
            return (null, NotFound("review"));
        }
        if (string.IsNullOrWhiteSpace(reason) || reason.Trim().Length > 1000)
        {
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Say in 1–1,000 characters what is wrong with the review.", "reason"));
        }
        if (await db.ReviewReports.AnyAsync(r => r.ReviewId == reviewId && r.ReporterUserId == userId, ct))
        {
            return (null, AlreadyReported());
        }
        var report = new ReviewReport { ReviewId = reviewId, ReporterUserId = userId, Reason = reason.Trim(), CreatedUtc = clock.GetUtcNow().UtcDateTime };
        db.ReviewReports.Add(report);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            return (null, AlreadyReported());
        }
        return (report, null);
    }

    /// <summary>
    /// Hides a visible review (an operator's decision) and takes its stars out of the listing's rating, in the caller's
    /// transaction. False when it is already hidden: the conditional update lets only one of two concurrent hides count.
    /// </summary>
    public async Task<bool> HideAsync(Review review, string reason, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var hidden = await db.Reviews.Where(r => r.Id == review.Id && r.HiddenUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.HiddenUtc, now).SetProperty(r => r.HiddenReason, reason), ct);
        if (hidden == 0)
        {
            return false;
        }
        await AdjustCountersAsync(review.ListingId, reviews: -1, stars: -review.Rating, ct);
        return true;
    }

    /// <summary>
    /// Whether the organization has used the agent as a customer: completed a run of it (SPEC §2) as a subscriber (now or
    /// before), or paid for a run from its credits. A free playground try (a free or subscription-priced agent's trial)
    /// is a completed run but not use: otherwise anyone could sign up, try an agent once and rate it.
    /// </summary>
    async Task<bool> HasUsedAsync(Guid listingId, Guid organizationId, CancellationToken ct)
    {
        await projector.CaughtUpAsync(ct); // a buyer may review right after the run
        if (!await db.RunRecords.AnyAsync(r => r.ListingId == listingId && r.OrganizationId == organizationId && r.Outcome == RunOutcome.Completed, ct))
        {
            return false;
        }
        if (await db.CustomerAgentConfigs.AnyAsync(c => c.ListingId == listingId && c.OrganizationId == organizationId, ct))
        {
            return true; // terminated subscriptions count: a former customer may still review
        }
        // A run the wallet paid for is settled under the run's own key; a trial's credits come from the platform instead.
        var charged = await db.AgentRuns.Where(r => r.ListingId == listingId && r.OrganizationId == organizationId
                && r.Status == Gateway.AgentRunStatus.Succeeded && r.CreditsCharged > 0)
            .Select(r => r.Id).ToListAsync(ct);
        var settlements = charged.ConvertAll(id => $"run:{id}:settle");
        return settlements.Count > 0 && await db.LedgerOperations.AnyAsync(o => settlements.Contains(o.IdempotencyKey), ct);
    }

    async Task AdjustCountersAsync(Guid listingId, int reviews, int stars, CancellationToken ct) =>
        await db.Listings.Where(l => l.Id == listingId).ExecuteUpdateAsync(s => s
            .SetProperty(l => l.ReviewsCount, l => l.ReviewsCount + reviews)
            .SetProperty(l => l.RatingTotal, l => l.RatingTotal + stars), ct);

    static Accounts.Failure? Invalid(int? rating, string? text, bool ratingRequired)
    {
        if ((rating is null && ratingRequired) || rating is < 1 or > 5)
        {
            return new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Give 1 to 5 stars.", "rating");
        }
        return text is { Length: > MaxTextLength }
            ? new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"Keep the review under {MaxTextLength:N0} characters.", "text")
            : null;
    }

    static Accounts.Failure NotFound(string what) => new(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"The {what} was not found.");

    static Accounts.Failure AlreadyReviewed() =>
        new(StatusCodes.Status409Conflict, CatalogProblemCodes.AlreadyReviewed, "Your organization has already reviewed this agent; edit that review instead.");

    static Accounts.Failure AlreadyReported() => new(StatusCodes.Status409Conflict, CatalogProblemCodes.AlreadyReported, "You have already reported this review.");
}
