using System.ComponentModel.DataAnnotations;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.Moderation;

public sealed record ModerationListingResponse(
    Guid Uuid, string Slug, string Name, string ProviderHandle, string Category, ListingState State, string? ModerationNote, DateTime Created);
public sealed record ReviewReportView(
    Guid Uuid, Guid Review, string ListingSlug, int Rating, string ReviewText, string Reason, string Reporter, DateTime Created, DateTime? Resolved);
public sealed record ModerationRejectRequest([property: MaxLength(1000)] string? Reason);
public sealed record ResolveReportRequest(bool? RemoveReview);

/// <summary>The operator's side of the catalog: listings waiting for approval (when auto-approval is off) and reported reviews.</summary>
static class ModerationEndpoints
{
    public static void MapCatalogModeration(this IEndpointRouteBuilder routes)
    {
        var listings = routes.MapGroup("/api/admin/listings").WithTags("Admin");
        listings.MapGet("/", ListListingsAsync).WithName("AdminListListings").RequireOperator();
        listings.MapPost("/{uuid:guid}/approve", ApproveAsync).WithName("AdminApproveListing").RequireOperator();
        listings.MapPost("/{uuid:guid}/reject", RejectAsync).WithName("AdminRejectListing").RequireOperator();

        var reports = routes.MapGroup("/api/admin/review-reports").WithTags("Admin");
        reports.MapGet("/", ListReportsAsync).WithName("AdminListReviewReports").RequireOperator();
        reports.MapPost("/{uuid:guid}/resolve", ResolveAsync).WithName("AdminResolveReviewReport").RequireOperator();
    }

    static async Task<IResult> ListListingsAsync(string? state, int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var filter = ListingState.PendingReview;
        if (state is not null && !EnumNames<ListingState>.TryParse(state, out filter))
        {
            return ApiProblem.Invalid("state", "Use draft, pending_review, active, paused or archived.");
        }
        var query = db.Listings.AsNoTracking().Where(l => l.State == filter).OrderBy(l => l.CreatedUtc)
            .Select(l => new ModerationListingResponse(l.Id, l.Slug, l.Name, l.Provider!.Handle, l.Category!.Slug, l.State, l.ModerationNote, l.CreatedUtc));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> ApproveAsync(Guid uuid, ListingModeration moderation, CancellationToken ct) =>
        Answer(await moderation.ApproveAsync(uuid, ct), "listing", CatalogProblemCodes.ListingStateConflict, "Only listings in pending_review can be approved.");

    static async Task<IResult> RejectAsync(Guid uuid, ModerationRejectRequest request, AppDbContext db, ListingModeration moderation, CancellationToken ct)
    {
        if (!await db.Listings.AnyAsync(l => l.Id == uuid, ct))
        {
            return ApiProblem.NotFound("listing");
        }
        if (string.IsNullOrWhiteSpace(request.Reason))
        {
            return ApiProblem.Invalid("reason", "Tell the provider what to change.");
        }
        return Answer(await moderation.RejectAsync(uuid, request.Reason, ct), "listing", CatalogProblemCodes.ListingStateConflict, "Only listings in pending_review can be rejected.");
    }

    static async Task<IResult> ListReportsAsync(bool? resolved, int? limit, int? offset, AppDbContext db, CancellationToken ct)
    {
        var showResolved = resolved ?? false;
        var query = db.ReviewReports.AsNoTracking()
            .Where(r => (r.ResolvedUtc != null) == showResolved)
            .OrderBy(r => r.CreatedUtc)
            .Join(db.Reviews, r => r.ReviewId, v => v.Id, (r, v) => new { Report = r, Review = v })
            .Join(db.Users, x => x.Report.ReporterUserId, u => u.Id, (x, u) => new ReviewReportView(
                x.Report.Id, x.Review.Id, db.Listings.Where(l => l.Id == x.Review.ListingId).Select(l => l.Slug).First(),
                x.Review.Rating, x.Review.Text, x.Report.Reason, u.Email, x.Report.CreatedUtc, x.Report.ResolvedUtc));
        return TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(query, ct));
    }

    static async Task<IResult> ResolveAsync(Guid uuid, ResolveReportRequest? request, ListingModeration moderation, CancellationToken ct) =>
        Answer(await moderation.ResolveReportAsync(uuid, request?.RemoveReview ?? false, ct), "report", ProblemCodes.Conflict, "This report is already resolved.");

    static IResult Answer(ListingModeration.Outcome outcome, string what, string conflictCode, string conflict) => outcome switch
    {
        ListingModeration.Outcome.Done => TypedResults.NoContent(),
        ListingModeration.Outcome.NotFound => ApiProblem.NotFound(what),
        ListingModeration.Outcome.WrongState => ApiProblem.Conflict(conflictCode, conflict),
    };
}
