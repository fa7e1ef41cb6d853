using System.ComponentModel.DataAnnotations;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Moderation;

public sealed record ModerationRejectRequest([property: MaxLength(1000)] string? Reason);

/// <param name="Revision">
/// The <c>revision</c> of the listing the operator reviewed (<c>GET /api/admin/listings/{uuid}</c>); when given, a listing
/// changed since is refused with 409 <c>listing_changed</c> (ADR-158).
/// </param>
public sealed record ModerationApproveRequest([property: MaxLength(64)] string? Revision);

/// <param name="Revision">As for an approval: the revision reviewed, checked when given.</param>
public sealed record ListingRejectRequest([property: MaxLength(1000)] string? Reason, [property: MaxLength(64)] string? Revision = null);
public sealed record ReportDecisionRequest([property: MaxLength(1000)] string? Reason);

/// <summary>
/// The operator's side of the catalog: listings waiting for approval (when auto-approval is off), every listing with what
/// a reviewer needs to see, taking a live one down and restoring it, and reported reviews.
/// </summary>
static class ModerationEndpoints
{
    public static void MapCatalogModeration(this IEndpointRouteBuilder routes)
    {
        var listings = routes.MapGroup("/api/admin/listings").WithTags("Admin");
        listings.MapGet("/", ListListingsAsync).WithName("AdminListListings").RequireOperator();
        listings.MapGet("/{uuid:guid}", GetListingAsync).WithName("AdminGetListing").RequireOperator();
        listings.MapPost("/{uuid:guid}/approve", ApproveAsync).WithName("AdminApproveListing").RequireOperator();
        listings.MapPost("/{uuid:guid}/reject", RejectAsync).WithName("AdminRejectListing").RequireOperator();
        listings.MapPost("/{uuid:guid}/take-down", TakeDownAsync).WithName("AdminTakeDownListing").RequireOperator();
        listings.MapPost("/{uuid:guid}/restore", RestoreAsync).WithName("AdminRestoreListing").RequireOperator();

        var reports = routes.MapGroup("/api/admin/review-reports").WithTags("Admin");
        reports.MapGet("/", ListReportsAsync).WithName("AdminListReviewReports").RequireOperator();
        reports.MapPost("/{uuid:guid}/hide", HideAsync).WithName("AdminHideReportedReview").RequireOperator();
        reports.MapPost("/{uuid:guid}/dismiss", DismissAsync).WithName("AdminDismissReviewReports").RequireOperator();
    }

    static async Task<IResult> ListListingsAsync(string? state, string? q, int? limit, int? offset, OperatorListings listings, CancellationToken ct)
    {
        if (!TryParseStateFilter(state, out var filter))
        {
            return ApiProblem.Invalid("state", "Use pending_review, active, paused, suspended, taken_down, draft, archived or all.");
        }
        // Absent, the review queue: first publications and the live listings' edits waiting for review (ADR-163).
        return TypedResults.Ok(await listings.ListAsync(filter, q, PageRequest.From(limit, offset), ct, withPendingChanges: string.IsNullOrEmpty(state)));
    }

    /// <summary>
    /// The console's state filter: absent means the review queue (pending_review, with the live listings' pending edits
    /// when the caller adds them), <c>all</c> every state.
    /// </summary>
    public static bool TryParseStateFilter(string? state, out ListingState? filter)
    {
        filter = ListingState.PendingReview;
        if (string.IsNullOrEmpty(state))
        {
            return true;
        }
        if (state == "all")
        {
            filter = null;
            return true;
        }
        var parsed = EnumNames<ListingState>.TryParse(state, out var value);
        filter = value;
        return parsed;
    }

    static async Task<IResult> GetListingAsync(Guid uuid, OperatorListings listings, CancellationToken ct) =>
        await listings.DetailsAsync(uuid, ct) is { } details ? TypedResults.Ok(details) : ApiProblem.NotFound("listing");

    static async Task<IResult> ApproveAsync(Guid uuid, ModerationApproveRequest? request, ListingModeration moderation, CancellationToken ct) =>
        Answer(await moderation.ApproveAsync(uuid, ct, request?.Revision), "listing", CatalogProblemCodes.ListingStateConflict, "Only listings in pending_review, or live ones with an edit waiting for review, can be approved.");

    static async Task<IResult> RejectAsync(Guid uuid, ListingRejectRequest request, AppDbContext db, ListingModeration moderation, CancellationToken ct)
    {
        if (!await db.Listings.AnyAsync(l => l.Id == uuid, ct))
        {
            return ApiProblem.NotFound("listing");
        }
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            return ApiProblem.Invalid("reason", "Tell the provider what to change.");
        }
        return Answer(await moderation.RejectAsync(uuid, request.Reason, ct, request.Revision), "listing", CatalogProblemCodes.ListingStateConflict, "Only listings in pending_review, or live ones with an edit waiting for review, can be rejected.");
    }

    static async Task<IResult> TakeDownAsync(Guid uuid, ModerationRejectRequest? request, AppDbContext db, ListingModeration moderation, CancellationToken ct)
    {
        if (!await db.Listings.AnyAsync(l => l.Id == uuid, ct))
        {
            return ApiProblem.NotFound("listing");
        }
        if (string.IsNullOrWhiteSpace(request?.Reason))
        {
            return ApiProblem.Invalid("reason", "Say why: the provider sees it, and the audit log keeps it.");
        }
        return Answer(await moderation.TakeDownAsync(uuid, request.Reason, ct), "listing", CatalogProblemCodes.ListingStateConflict,
            "Only live listings (active or paused) can be taken down.");
    }

    static async Task<IResult> RestoreAsync(Guid uuid, ListingModeration moderation, CancellationToken ct) =>
        Answer(await moderation.RestoreAsync(uuid, ct), "listing", CatalogProblemCodes.ListingStateConflict, "Only taken-down listings can be restored.");

    static async Task<IResult> ListReportsAsync(int? limit, int? offset, ListingModeration moderation, CancellationToken ct) =>
        TypedResults.Ok(await moderation.ReportedReviewsAsync(PageRequest.From(limit, offset), ct));

    static async Task<IResult> HideAsync(Guid uuid, ReportDecisionRequest? request, AppDbContext db, ListingModeration moderation, CancellationToken ct)
    {
        if (await ReasonProblemAsync(uuid, request, db, ct) is { } problem)
        {
            return problem;
        }
        return Answer(await moderation.HideReviewAsync(uuid, request!.Reason!, ct), "review", CatalogProblemCodes.ReviewAlreadyHidden, "This review is already hidden.");
    }

    static async Task<IResult> DismissAsync(Guid uuid, ReportDecisionRequest? request, AppDbContext db, ListingModeration moderation, CancellationToken ct)
    {
        if (await ReasonProblemAsync(uuid, request, db, ct) is { } problem)
        {
            return problem;
        }
        return Answer(await moderation.DismissReportsAsync(uuid, request!.Reason!, ct), "review", CatalogProblemCodes.NoOpenReports, "This review has no open reports.");
    }

    /// <summary>An unknown review answers 404 whatever the body; a decision without a reason is refused.</summary>
    static async Task<IResult?> ReasonProblemAsync(Guid review, ReportDecisionRequest? request, AppDbContext db, CancellationToken ct)
    {
        if (!await db.Reviews.AnyAsync(r => r.Id == review, ct))
        {
            return ApiProblem.NotFound("review");
        }
        return string.IsNullOrWhiteSpace(request?.Reason) ? ApiProblem.Invalid("reason", "Say why, for the audit log.") : null;
    }

    static IResult Answer(ListingModeration.Outcome outcome, string what, string conflictCode, string conflict) => outcome switch
    {
        ListingModeration.Outcome.Done => TypedResults.NoContent(),
        ListingModeration.Outcome.NotFound => ApiProblem.NotFound(what),
        ListingModeration.Outcome.WrongState => ApiProblem.Conflict(conflictCode, conflict),
        ListingModeration.Outcome.Changed => ApiProblem.Conflict(CatalogProblemCodes.ListingChanged,
            "The listing changed since the revision you reviewed: read it again (its revision with it) and decide on what it is now."),
    };
}
