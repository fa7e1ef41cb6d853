using System.ComponentModel.DataAnnotations;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Catalog.Featured;

public sealed record FeatureRequest([property: Range(0, 10_000)] int? Position);

/// <summary>
/// <c>/api/admin/featured-listings/</c>: operators list, feature (PUT, with an optional position) and unfeature (DELETE)
/// listings; <c>GET /api/marketplace/featured/</c> is the storefront's row for everyone.
/// </summary>
static class FeaturedEndpoints
{
    public static void MapFeaturedListings(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/marketplace/featured", RowAsync).WithTags("Catalog").WithName("FeaturedListings").AllowAnyone();
        var admin = routes.MapGroup("/api/admin/featured-listings").WithTags("Admin");
        admin.MapGet("/", ListAsync).WithName("AdminListFeaturedListings").RequireOperator();
        admin.MapPut("/{uuid:guid}", FeatureAsync).WithName("AdminFeatureListing").RequireOperator();
        admin.MapDelete("/{uuid:guid}", UnfeatureAsync).WithName("AdminUnfeatureListing").RequireOperator();
    }

    static async Task<IResult> RowAsync(FeaturedListings featured, CancellationToken ct) => TypedResults.Ok(await featured.RowAsync(ct));

    static async Task<IResult> ListAsync(FeaturedListings featured, CancellationToken ct) => TypedResults.Ok(await featured.ListAsync(ct));

    static async Task<IResult> FeatureAsync(Guid uuid, FeatureRequest? request, FeaturedListings featured, CancellationToken ct)
    {
        var (outcome, view) = await featured.FeatureAsync(uuid, request?.Position, ct);
        return outcome switch
        {
            FeaturedListings.Outcome.Done => TypedResults.Ok(view),
            FeaturedListings.Outcome.NotFound => ApiProblem.NotFound("listing"),
            FeaturedListings.Outcome.NotPublished => ApiProblem.Conflict(CatalogProblemCodes.ListingNotPublished, "Only active public listings of active organizations can be featured."),
        };
    }

    static async Task<IResult> UnfeatureAsync(Guid uuid, FeaturedListings featured, CancellationToken ct) =>
        await featured.UnfeatureAsync(uuid, ct) == FeaturedListings.Outcome.Done ? TypedResults.NoContent() : ApiProblem.NotFound("featured listing");
}
