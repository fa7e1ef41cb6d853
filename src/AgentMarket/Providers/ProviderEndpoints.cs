using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Images;
using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers;

public sealed record ApplyRequest(
    [property: Required, MinLength(2), MaxLength(40)] string Handle,
    [property: Required, MinLength(1), MaxLength(200)] string Name,
    [property: MaxLength(2000)] string? Bio);

public sealed record ReapplyRequest([property: MaxLength(200)] string? Name, [property: MaxLength(2000)] string? Bio);
public sealed record UpdateProviderRequest([property: MinLength(1), MaxLength(200)] string? Name, [property: MaxLength(2000)] string? Bio, [property: MaxLength(500)] string? AvatarImage);

public sealed record ProviderResponse(
    Guid Uuid, string Handle, string Name, string? Bio, string? AvatarUrl, ProviderState State, string? DecisionReason, DateTime Created,
    DateTime? UsageSecretCreated, ProfileChangeResponse? PendingChange = null, ProfileChangeResponse? RejectedChange = null);

/// <summary>
/// A profile edit waiting for an operator, or rejected with their note (ADR-170); a null field keeps the live value, a bio
/// or avatar_url of "" removes it (ADR-173).
/// </summary>
public sealed record ProfileChangeResponse(string? Name, string? Bio, string? AvatarUrl, DateTime Submitted, DateTime? Rejected, string? RejectionNote);
public sealed record PublicProviderResponse(Guid Uuid, string Handle, string Name, string? Bio, string? AvatarUrl, bool Verified, IReadOnlyList<AgentCard> Listings);

static partial class ProviderEndpoints
{
    public static void MapProviders(this IEndpointRouteBuilder routes)
    {
        var providers = routes.MapGroup("/api/providers").WithTags("Providers");
        providers.MapPost("/", ApplyAsync).WithName("ApplyAsProvider").RequireOrganization(MembershipRole.Manager);
        providers.MapGet("/mine", GetMineAsync).WithName("GetMyProvider").RequireOrganization();
        providers.MapPatch("/mine", UpdateMineAsync).WithName("UpdateMyProvider").RequireOrganization(MembershipRole.Manager);
        providers.MapDelete("/mine/pending-change", WithdrawChangeAsync).WithName("WithdrawMyProfileChange").RequireOrganization(MembershipRole.Manager);
        providers.MapPost("/mine/reapply", ReapplyAsync).WithName("ReapplyAsProvider").RequireOrganization(MembershipRole.Manager);
        providers.MapGet("/{handle}", GetPublicAsync).WithName("GetProviderProfile").AllowAnyone();
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$")]
    internal static partial Regex HandlePattern();

    static async Task<IResult> ApplyAsync(ApplyRequest request, ProviderApplications applications, HttpContext http, CancellationToken ct)
    {
        var (provider, failure) = await applications.ApplyAsync(request.Handle, request.Name, request.Bio, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Created($"/api/providers/{provider!.Handle}", ToResponse(provider));
    }

    /// <summary>After a rejection: the application again, with what the operator asked for changed (name and bio).</summary>
    static async Task<IResult> ReapplyAsync(ReapplyRequest request, ProviderApplications applications, HttpContext http, CancellationToken ct)
    {
        var (provider, failure) = await applications.ReapplyAsync(request.Name, request.Bio, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Ok(ToResponse(provider!));
    }

    static async Task<IResult> GetMineAsync(CurrentTenant tenant, AppDbContext db, ProviderProfileChanges changes, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.OrganizationId == organizationId, ct);
        return provider is null ? ApiProblem.NotFound("provider") : TypedResults.Ok(ToResponse(provider, await changes.OfAsync(provider.Id, ct)));
    }

    /// <summary>
    /// Edits the public profile: name, bio, and the avatar (an image uploaded with POST /api/catalog-images/, by uuid or
    /// url; <c>"avatar_image": ""</c> removes it, as <c>"bio": ""</c> removes the bio, ADR-173). An approved provider's edit
    /// waits for an operator when auto-approval is off (ADR-170): the response shows it as <c>pending_change</c>.
    /// </summary>
    static async Task<IResult> UpdateMineAsync(UpdateProviderRequest request, CurrentTenant tenant, AppDbContext db, ProviderProfileChanges changes, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        if (!await db.Providers.AnyAsync(p => p.OrganizationId == organizationId, ct))
        {
            return ApiProblem.NotFound("provider");
        }
        if (request.Name is { } name && string.IsNullOrWhiteSpace(name))
        {
            return ApiProblem.Invalid("name", "The name cannot be empty.");
        }
        var edit = new ProfileEdit(request.Name?.Trim(), request.Bio?.Trim(), request.AvatarImage);
        var (provider, change, unknownAvatar) = await changes.EditAsync(organizationId, edit, ct);
        if (unknownAvatar)
        {
            return ApiProblem.Invalid("avatar_image", "Upload the image first (POST /api/catalog-images/) and use its uuid or url.");
        }
        return provider is null ? ApiProblem.NotFound("provider") : TypedResults.Ok(ToResponse(provider, change));
    }

    /// <summary>Withdraws the profile edit waiting for an operator; 404 when none waits.</summary>
    static async Task<IResult> WithdrawChangeAsync(CurrentTenant tenant, ProviderProfileChanges changes, CancellationToken ct) =>
        await changes.WithdrawAsync(tenant.RequiredOrganizationId, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("pending profile change");

    static async Task<IResult> GetPublicAsync(string handle, CatalogQueries catalog, CancellationToken ct)
    {
        var found = await catalog.ProviderAsync(handle, ct);
        if (found is not { } provider)
        {
            return ApiProblem.NotFound("provider");
        }
        var profile = provider.Profile;
        return TypedResults.Ok(new PublicProviderResponse(profile.Uuid, profile.Handle, profile.Name, profile.Bio, profile.AvatarUrl, profile.Verified, provider.Listings));
    }

    internal static ProviderResponse ToResponse(Provider p, ProviderProfileChange? change = null) =>
        new(p.Id, p.Handle, p.Name, p.Bio, p.AvatarUrl, p.State, p.DecisionReason, p.CreatedUtc, p.UsageSecretCreatedUtc,
            change is { RejectedUtc: null } ? ToResponse(change) : null, change is { RejectedUtc: not null } ? ToResponse(change) : null);

    static ProfileChangeResponse ToResponse(ProviderProfileChange c) => new(c.Name, c.Bio, c.AvatarUrl, c.SubmittedUtc, c.RejectedUtc, c.RejectionNote);
}

/// <summary>An organization's application to sell, approved at once or queued for an operator (<c>Marketplace:AutoApproveProviders</c>).</summary>
public sealed class ProviderApplications(AppDbContext db, CurrentTenant tenant, IOptionsMonitor<MarketplaceOptions> options, TimeProvider clock)
{
    public async Task<(Provider? Provider, Accounts.Failure? Failure)> ApplyAsync(string handle, string name, string? bio, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var normalized = handle.Trim().TrimStart('@').ToLowerInvariant();
        if (!ProviderEndpoints.HandlePattern().IsMatch(normalized))
        {
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed,
                "A handle has 2–40 lower-case letters, digits or single hyphens, and starts and ends with a letter or digit.", "handle"));
        }
        if (await db.Providers.AnyAsync(p => p.OrganizationId == organizationId, ct))
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.AlreadyProvider, "This organization is already a provider."));
        }
        if (await db.Providers.AnyAsync(p => p.Handle == normalized, ct))
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.HandleTaken, "This handle is taken.", "handle"));
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var autoApprove = options.CurrentValue.AutoApproveProviders;
        var provider = new Provider
        {
            OrganizationId = organizationId,
            Handle = normalized,
            Name = name.Trim(),
            Bio = bio?.Trim(),
            State = autoApprove ? ProviderState.Approved : ProviderState.Pending,
            DecidedUtc = autoApprove ? now : null,
            CreatedUtc = now,
        };
        db.Providers.Add(provider);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Lost a race on one of the unique indexes (handle or organization).
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, ProblemCodes.HandleTaken, "This handle is taken.", "handle"));
        }
        return (provider, null);
    }

    /// <summary>
    /// Applies again after a rejection, with a new name or bio (the handle stays this organization's): the application
    /// waits for an operator again (or is approved at once with <c>Marketplace:AutoApproveProviders</c>), and the
    /// rejection's reason, now answered, is cleared. 409 <c>provider_not_rejected</c> for any other state.
    /// </summary>
    public async Task<(Provider? Provider, Accounts.Failure? Failure)> ReapplyAsync(string? name, string? bio, CancellationToken ct)
    {
        var badName = name is not null && (string.IsNullOrWhiteSpace(name) || name.Length > 200);
        if (badName || bio?.Length > 2000)
        {
            return (null, new Accounts.Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed,
                "Give a display name (at most 200 characters) and a bio of at most 2,000.", badName ? "name" : "bio"));
        }
        var organizationId = tenant.RequiredOrganizationId;
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.OrganizationId == organizationId, ct);
        if (provider is null)
        {
            return (null, new Accounts.Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "This organization has not applied yet (POST /api/providers/)."));
        }
        if (provider.State != ProviderState.Rejected)
        {
            return (null, new Accounts.Failure(StatusCodes.Status409Conflict, "provider_not_rejected", "Only a rejected application can be sent again."));
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var autoApprove = options.CurrentValue.AutoApproveProviders;
        provider.Name = name?.Trim() ?? provider.Name;
        provider.Bio = bio is null ? provider.Bio : (string.IsNullOrWhiteSpace(bio) ? null : bio.Trim());
        provider.State = autoApprove ? ProviderState.Approved : ProviderState.Pending;
        provider.DecidedUtc = autoApprove ? now : null;
        provider.DecisionReason = null;
        await db.SaveChangesAsync(ct);
        return (provider, null);
    }
}
