using System.ComponentModel.DataAnnotations;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Providers.Publishing;

// Nothing is [Required] here: publish checks for the required parts after finding the agent, so an unknown agent
// answers 404 whatever the body; the same record edits a listing, where every part is optional.
public sealed record PublishRequest(
    [property: MaxLength(80)] string? Slug,
    [property: MaxLength(100)] string? Category,
    [property: MaxLength(300)] string? ShortDescription,
    [property: MaxLength(20_000)] string? Description,
    List<string>? Tags,
    PricingRequest? Pricing,
    bool? IsPremium,
    ListingVisibility? Visibility,
    [property: MaxLength(500)] string? PreviewImage)
{
    public ListingDraft ToDraft() => new(Slug?.Trim(), Category, ShortDescription, Description, Tags, Pricing, IsPremium, Visibility, PreviewImage);
}

/// <summary>Publishing a provider agent as a listing and managing that listing (SPEC §2 states, §5 pricing notice).</summary>
static class PublishingEndpoints
{
    public static void MapPublishing(this IEndpointRouteBuilder routes)
    {
        var agents = routes.MapGroup("/api/provider-agents/{uuid:guid}").WithTags("Publishing");
        agents.MapPost("/publish", PublishAsync).WithName("PublishProviderAgent").RequireOrganization(MembershipRole.Manager);
        agents.MapGet("/listing", GetAsync).WithName("GetOwnListing").RequireOrganization();
        agents.MapPatch("/listing", UpdateAsync).WithName("UpdateOwnListing").RequireOrganization(MembershipRole.Manager);
        agents.MapDelete("/listing/pending-change", WithdrawChangeAsync).WithName("WithdrawListingChange").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/listing/pause", (Guid uuid, ListingPublisher publisher, HttpContext http, CancellationToken ct) => ApplyAsync(uuid, ListingAction.Pause, publisher, http, ct))
            .WithName("PauseListing").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/listing/unpause", (Guid uuid, ListingPublisher publisher, HttpContext http, CancellationToken ct) => ApplyAsync(uuid, ListingAction.Unpause, publisher, http, ct))
            .WithName("UnpauseListing").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/listing/archive", (Guid uuid, ListingPublisher publisher, HttpContext http, CancellationToken ct) => ApplyAsync(uuid, ListingAction.Archive, publisher, http, ct))
            .WithName("ArchiveListing").RequireOrganization(MembershipRole.Manager);
        agents.MapPost("/listing/submit", (Guid uuid, ListingPublisher publisher, HttpContext http, CancellationToken ct) => ApplyAsync(uuid, ListingAction.Submit, publisher, http, ct))
            .WithName("SubmitListing").RequireOrganization(MembershipRole.Manager);
    }

    static async Task<IResult> PublishAsync(Guid uuid, PublishRequest request, ListingPublisher publisher, HttpContext http, CancellationToken ct)
    {
        var (listing, failure) = await publisher.PublishAsync(uuid, request.ToDraft(), ct);
        return failure is not null
            ? failure.ToProblem(http)
            : TypedResults.Created($"/api/marketplace/agents/{listing!.Slug}", await publisher.OwnListingAsync(uuid, ct));
    }

    static async Task<IResult> GetAsync(Guid uuid, ListingPublisher publisher, CancellationToken ct) =>
        await publisher.OwnListingAsync(uuid, ct) is { } listing ? TypedResults.Ok(listing) : Platform.Errors.ApiProblem.NotFound("listing");

    static async Task<IResult> UpdateAsync(Guid uuid, PublishRequest request, ListingPublisher publisher, HttpContext http, CancellationToken ct)
    {
        var (_, failure) = await publisher.UpdateAsync(uuid, request.ToDraft(), ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(await publisher.OwnListingAsync(uuid, ct));
    }

    static async Task<IResult> WithdrawChangeAsync(Guid uuid, ListingPublisher publisher, HttpContext http, CancellationToken ct) =>
        await publisher.WithdrawChangeAsync(uuid, ct) is { } failure ? failure.ToProblem(http) : TypedResults.Ok(await publisher.OwnListingAsync(uuid, ct));

    static async Task<IResult> ApplyAsync(Guid uuid, ListingAction action, ListingPublisher publisher, HttpContext http, CancellationToken ct)
    {
        var (_, failure) = await publisher.ApplyAsync(uuid, action, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(await publisher.OwnListingAsync(uuid, ct));
    }
}
