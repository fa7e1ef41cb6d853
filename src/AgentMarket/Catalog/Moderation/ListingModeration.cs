using System.Security.Cryptography;
using System.Text.Json;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Catalog.Moderation;

/// <summary>An operator's decisions on listings (awaiting review, or live and taken down) and on reported reviews.</summary>
public sealed class ListingModeration(
    AppDbContext db, ListingReviews reviews, CurrentTenant tenant, TimeProvider clock, Audit.AuditLog audit, IOptionsMonitor<MarketplaceOptions> options)
{
    public enum Outcome
    {
        Done,
        NotFound,
        WrongState,

        /// <summary>The listing's content is no longer the <see cref="Revision"/> the operator reviewed.</summary>
        Changed,
    }

    /// <summary>
    /// A fingerprint of what an operator reviews of a listing: its texts, image, category, price terms, visibility, the
    /// version it serves and whether it reports usage; not its state or counters. A decision that names the revision it was
    /// made on is refused when the provider changed any of it since (ADR-158). With the live listing's
    /// <paramref name="pendingChange"/>, that too: the operator approves the edit they read (ADR-163).
    /// </summary>
    public static string Revision(Listing listing, ListingChange? pendingChange = null)
    {
        var reviewed = new List<object?>
        {
            listing.Slug, listing.Name, listing.CategoryId, listing.ShortDescription, listing.Description, listing.Tags, listing.PricingModel,
            listing.CreditsPerRun, listing.CreditsMin, listing.CreditsMax, listing.IsPremium, listing.Visibility, listing.PreviewImageUrl,
            listing.AgentVersionId, listing.ReportsUsageSinceUtc,
        };
        if (pendingChange is { } c)
        {
            reviewed.AddRange([c.Name, c.ShortDescription, c.Description, c.Tags, c.CategoryId, c.PreviewImageUrl, c.SubmittedUtc]);
        }
        return Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(reviewed)))[..32];
    }

    /// <summary>The edit of the live listing waiting for a decision, tracked; null when there is none.</summary>
    public Task<ListingChange?> PendingChangeAsync(Guid listingId, CancellationToken ct) =>
        db.ListingChanges.AwaitingReview(db.Listings).FirstOrDefaultAsync(c => c.ListingId == listingId, ct);

    /// <summary>
    /// Approves a listing waiting in <c>pending_review</c>: it goes live; or a live listing's pending edit: the listing
    /// serves it. With <paramref name="revision"/>, only if the listing and its edit are still what the operator reviewed.
    /// </summary>
    public async Task<Outcome> ApproveAsync(Guid listingId, CancellationToken ct, string? revision = null) =>
        await PendingChangeAsync(listingId, ct) is { } change
            ? await DecideChangeAsync(change, Audit.AuditActions.ListingChangeApproved, revision, listing =>
            {
                var fields = ListingChanges.Fields(change);
                var name = listing.Name;
                ListingEdit.Of(change).ApplyTo(listing);
                db.ListingChanges.Remove(change);
                return (new { change = fields, submitted = change.SubmittedUtc }, new Decision(
                    $"Your edit of “{name}” is approved",
                    $"An operator approved your edit of the listing “{name}”: buyers see it now."));
            }, ct)
            : await DecideAsync(listingId, state => state == ListingState.PendingReview, Audit.AuditActions.ListingApproved, async listing =>
        {
            await PutLiveAsync(listing, ct);
            listing.ModerationNote = null;
            var outcome = listing.State == ListingState.Suspended
                ? "it goes live in the catalog when your organization is reactivated."
                : "it is live in the catalog now.";
            return (new { state = ListingState.PendingReview }, new { state = listing.State, revision = Revision(listing) },
                new Decision($"Your listing “{listing.Name}” is approved", $"An operator approved your listing “{listing.Name}”: {outcome}"));
        }, ct, revision);

    /// <summary>
    /// Sends a listing under review back to draft with the reason, which its provider sees; they fix it and submit again.
    /// A live listing's pending edit is discarded instead, kept with the reason for its provider; the listing is unchanged.
    /// With <paramref name="revision"/>, only if the listing is still what the operator reviewed (the reason is about it).
    /// </summary>
    public async Task<Outcome> RejectAsync(Guid listingId, string reason, CancellationToken ct, string? revision = null) =>
        await PendingChangeAsync(listingId, ct) is { } change
            ? await DecideChangeAsync(change, Audit.AuditActions.ListingChangeRejected, revision, listing =>
            {
                change.RejectedUtc = clock.GetUtcNow().UtcDateTime;
                change.RejectionNote = reason.Trim();
                return (new { change = ListingChanges.Fields(change), submitted = change.SubmittedUtc, reason = change.RejectionNote }, new Decision(
                    $"Your edit of “{listing.Name}” was not approved",
                    $"An operator rejected your edit of the listing “{listing.Name}”; buyers still see it as it was. The operator's note:\n\n{change.RejectionNote}\n\nYour next edit replaces the rejected one."));
            }, ct)
            : await DecideAsync(listingId, state => state == ListingState.PendingReview, Audit.AuditActions.ListingRejected, listing =>
        {
            listing.State = ListingState.Draft;
            listing.ModerationNote = reason.Trim();
            return Task.FromResult<(object, object, Decision)>((new { state = ListingState.PendingReview }, new { state = listing.State, reason = listing.ModerationNote },
                new Decision($"Your listing “{listing.Name}” needs changes",
                    $"An operator sent your listing “{listing.Name}” back to draft. The operator's note:\n\n{listing.ModerationNote}\n\nChange the listing and submit it again.")));
        }, ct, revision);

    /// <summary>
    /// Takes a live listing (active or paused) down with the reason, which its provider sees: it leaves the catalog, its
    /// subscribers' runs stop, and its provider can no longer change it, until an operator restores it. A suspended
    /// organization's listing too: taken down, the reactivation does not bring it back.
    /// </summary>
    public Task<Outcome> TakeDownAsync(Guid listingId, string reason, CancellationToken ct) =>
        DecideAsync(listingId, state => state is ListingState.Active or ListingState.Paused or ListingState.Suspended, Audit.AuditActions.ListingTakenDown, listing =>
        {
            var before = listing.State;
            listing.State = ListingState.TakenDown;
            listing.ModerationNote = reason.Trim();
            return Task.FromResult<(object, object, Decision)>((new { state = before }, new { state = listing.State, reason = listing.ModerationNote },
                new Decision($"Your listing “{listing.Name}” was taken down",
                    $"An operator took your listing “{listing.Name}” down: it left the catalog and its subscribers' runs stop. The operator's note:\n\n{listing.ModerationNote}\n\nYou cannot change the listing until an operator restores it.")));
        }, ct);

    /// <summary>
    /// Puts a taken-down listing back as it was and clears the reason: one its provider had paused stays paused (restoring
    /// must not make runnable what its provider stopped); any other goes live, or, if its organization is suspended
    /// meanwhile, waits in <see cref="ListingState.Suspended"/> and goes live with the reactivation.
    /// </summary>
    public Task<Outcome> RestoreAsync(Guid listingId, CancellationToken ct) =>
        DecideAsync(listingId, state => state == ListingState.TakenDown, Audit.AuditActions.ListingRestored, async listing =>
        {
            var reason = listing.ModerationNote;
            if (await StateBeforeTakeDownAsync(listing.Id, ct) == ListingState.Paused)
            {
                listing.State = ListingState.Paused;
            }
            else
            {
                await PutLiveAsync(listing, ct);
            }
            listing.ModerationNote = null;
            var outcome = listing.State switch
            {
                ListingState.Paused => "it is back as you left it, paused: resume it when you want its subscribers' runs to start again.",
                ListingState.Suspended => "it goes live in the catalog when your organization is reactivated.",
                _ => "it is live in the catalog again and its subscribers' runs work.",
            };
            return (new { state = ListingState.TakenDown, reason }, new { state = listing.State },
                new Decision($"Your listing “{listing.Name}” is restored", $"An operator restored your listing “{listing.Name}”: {outcome}"));
        }, ct);

    /// <summary>What the provider organization's owners and managers are emailed about a decision.</summary>
    sealed record Decision(string Subject, string Body);

    /// <summary>
    /// An operator's decision on a listing: applied when the listing's state <paramref name="allows"/> it, audited in its
    /// provider's organization with what <paramref name="decide"/> says it changed, emailed to its owners and managers, and saved. The
    /// listing is tracked, not bulk-updated, so the save tells the gateway's cache (GatewayCacheInvalidation) and its
    /// subscribers (SubscriberNotices).
    /// </summary>
    async Task<Outcome> DecideAsync(Guid listingId, Func<ListingState, bool> allows, string action,
        Func<Listing, Task<(object Before, object After, Decision Email)>> decide, CancellationToken ct, string? revision = null)
    {
        var listing = await db.Listings.FirstOrDefaultAsync(l => l.Id == listingId, ct);
        if (listing is null)
        {
            return Outcome.NotFound;
        }
        if (!allows(listing.State))
        {
            return Outcome.WrongState;
        }
        // The provider may edit a listing, or serve another version, while it waits for review. Read and decided in one
        // request otherwise: a concurrent edit between this read and the save is a few milliseconds, not a review.
        if (revision is not null && revision != Revision(listing))
        {
            return Outcome.Changed;
        }
        var (before, after, email) = await decide(listing);
        var organization = await OwnerOrganizationAsync(listing, ct);
        audit.Record(action, organization, "listing", listing.Id, before: before, after: after);
        await EmailAsync(listing, organization, email, ct);
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>
    /// An operator's decision on a live listing's pending edit, with the same revision check, audit and tracked save as
    /// <see cref="DecideAsync"/>; <paramref name="decide"/> returns what the audit entry records.
    /// </summary>
    async Task<Outcome> DecideChangeAsync(ListingChange change, string action, string? revision, Func<Listing, (object After, Decision Email)> decide,
        CancellationToken ct)
    {
        var listing = await db.Listings.FirstAsync(l => l.Id == change.ListingId, ct);
        if (revision is not null && revision != Revision(listing, change))
        {
            return Outcome.Changed;
        }
        var (after, email) = decide(listing);
        if (change.RejectedUtc is not null)
        {
            tenant.EnterSystemScope(); // the provider organization's agent, not the operator's
            await ListingChanges.RestoreAgentNameAsync(db, listing, change, ct);
        }
        var organization = await OwnerOrganizationAsync(listing, ct);
        audit.Record(action, organization, "listing", listing.Id, after: after);
        await EmailAsync(listing, organization, email, ct);
        await db.SaveChangesAsync(ct);
        return Outcome.Done;
    }

    /// <summary>
    /// Emails a decision to the owners and managers (who edit listings) of the listing's provider organization, through the
    /// outbox in the decision's save (ADR-169), with a link to the listing's page in the console when the marketplace has
    /// a public address (<c>Marketplace:PublicUrl</c>; never the request's host).
    /// </summary>
    async Task EmailAsync(Listing listing, Guid organizationId, Decision decision, CancellationToken ct)
    {
        var body = decision.Body;
        if (options.CurrentValue.PublicUrl is { Length: > 0 } publicUrl && listing.AgentId is { } agentId)
        {
            body += $"\n\nThe listing in your console: {publicUrl.TrimEnd('/')}/provider/agents/{agentId}/publish";
        }
        await Admin.ModerationEmails.QueueAsync(db, organizationId, decision.Subject, body, clock.GetUtcNow().UtcDateTime, ct);
    }

    /// <summary>Puts a listing live; while its organization is suspended it waits, with its other live ones, for the reactivation.</summary>
    async Task PutLiveAsync(Listing listing, CancellationToken ct)
    {
        if (await db.Organizations.IsSuspendedAsync(listing.OrganizationId, ct))
        {
            listing.State = ListingState.Suspended;
            return;
        }
        ListingPublication.GoLive(db, listing, clock.GetUtcNow().UtcDateTime);
    }

    /// <summary>
    /// The state the listing's latest take-down found it in, as that decision's audit entry recorded it (the listing keeps
    /// no column for it); null when there is no such entry.
    /// </summary>
    async Task<ListingState?> StateBeforeTakeDownAsync(Guid listingId, CancellationToken ct)
    {
        var target = listingId.ToString();
        var before = await db.AuditEntries.AsNoTracking()
            .Where(a => a.Action == Audit.AuditActions.ListingTakenDown && a.TargetType == "listing" && a.TargetId == target)
            .OrderByDescending(a => a.OccurredUtc).ThenByDescending(a => a.Id)
            .Select(a => a.Before).FirstOrDefaultAsync(ct);
        return before is null ? null : JsonSerializer.Deserialize<TakenDownFrom>(before, AuditJson)?.State;
    }

    sealed record TakenDownFrom(ListingState State);

    static readonly JsonSerializerOptions AuditJson = CreateAuditJson();

    static JsonSerializerOptions CreateAuditJson()
    {
        var options = new JsonSerializerOptions();
        Platform.PlatformModule.ConfigureJson(options);
        return options;
    }

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
