using System.ComponentModel.DataAnnotations;
using AgentMarket.Identity;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Catalog.Reviews;

// Required fields are checked by the service after the review or listing is found, so an unknown id answers 404
// whatever the body.
public sealed record ReviewRequest([property: Range(1, 5)] int? Rating, [property: MaxLength(ListingReviews.MaxTextLength)] string? Text);
public sealed record ReplyRequest([property: MaxLength(ListingReviews.MaxTextLength)] string? Text);
public sealed record ReportRequest([property: MaxLength(1000)] string? Reason);
public sealed record ReviewResponse(Guid Uuid, Guid Listing, int Rating, string Text, string? ProviderReply, DateTime Created, DateTime Updated);
public sealed record ReviewReportResponse(Guid Uuid, Guid Review, string Reason, DateTime Created);

static class ReviewEndpoints
{
    public static void MapReviews(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/marketplace/agents/{uuid:guid}/reviews", CreateAsync).WithTags("Reviews").WithName("CreateReview").RequireOrganization();
        var reviews = routes.MapGroup("/api/reviews").WithTags("Reviews");
        reviews.MapPatch("/{uuid:guid}", UpdateAsync).WithName("UpdateReview").RequireOrganization();
        reviews.MapPut("/{uuid:guid}/reply", ReplyAsync).WithName("ReplyToReview").RequireOrganization(MembershipRole.Manager);
        reviews.MapPost("/{uuid:guid}/report", ReportAsync).WithName("ReportReview").RequireUser();
    }

    static async Task<IResult> CreateAsync(Guid uuid, ReviewRequest request, ListingReviews reviews, HttpContext http, CancellationToken ct)
    {
        var (review, failure) = await reviews.CreateAsync(uuid, request.Rating, request.Text, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Created($"/api/reviews/{review!.Id}", ToResponse(review));
    }

    static async Task<IResult> UpdateAsync(Guid uuid, ReviewRequest request, ListingReviews reviews, HttpContext http, CancellationToken ct)
    {
        var (review, failure) = await reviews.UpdateAsync(uuid, request.Rating, request.Text, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(ToResponse(review!));
    }

    static async Task<IResult> ReplyAsync(Guid uuid, ReplyRequest request, ListingReviews reviews, HttpContext http, CancellationToken ct)
    {
        var (review, failure) = await reviews.ReplyAsync(uuid, request.Text, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(ToResponse(review!));
    }

    static async Task<IResult> ReportAsync(Guid uuid, ReportRequest request, ListingReviews reviews, HttpContext http, CancellationToken ct)
    {
        var (report, failure) = await reviews.ReportAsync(uuid, request.Reason, ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Created($"/api/reviews/{uuid}/report", new ReviewReportResponse(report!.Id, uuid, report.Reason, report.CreatedUtc));
    }

    static ReviewResponse ToResponse(Review r) => new(r.Id, r.ListingId, r.Rating, r.Text, r.ProviderReply, r.CreatedUtc, r.UpdatedUtc);
}
