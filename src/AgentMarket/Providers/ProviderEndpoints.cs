using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
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

public sealed record ProviderResponse(Guid Uuid, string Handle, string Name, string? Bio, ProviderState State, string? DecisionReason, DateTime Created);
public sealed record PublicProviderResponse(Guid Uuid, string Handle, string Name, string? Bio, string? AvatarUrl, bool Verified);

static partial class ProviderEndpoints
{
    public static void MapProviders(this IEndpointRouteBuilder routes)
    {
        var providers = routes.MapGroup("/api/providers").WithTags("Providers");
        providers.MapPost("/", ApplyAsync).WithName("ApplyAsProvider").RequireOrganization(MembershipRole.Manager);
        providers.MapGet("/mine", GetMineAsync).WithName("GetMyProvider").RequireOrganization();
        providers.MapGet("/{handle}", GetPublicAsync).WithName("GetProviderProfile").AllowAnyone();
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){1,39}$")]
    internal static partial Regex HandlePattern();

    static async Task<IResult> ApplyAsync(ApplyRequest request, ProviderApplications applications, HttpContext http, CancellationToken ct)
    {
        var (provider, failure) = await applications.ApplyAsync(request.Handle, request.Name, request.Bio, ct);
        return failure is not null ? failure.ToProblem(http) : TypedResults.Created($"/api/providers/{provider!.Handle}", ToResponse(provider));
    }

    static async Task<IResult> GetMineAsync(CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var organizationId = tenant.RequiredOrganizationId;
        var provider = await db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.OrganizationId == organizationId, ct);
        return provider is null ? ApiProblem.NotFound("provider") : TypedResults.Ok(ToResponse(provider));
    }

    static async Task<IResult> GetPublicAsync(string handle, AppDbContext db, CancellationToken ct)
    {
        var normalized = handle.TrimStart('@').ToLowerInvariant();
        var provider = await db.Providers.AsNoTracking()
            .Where(p => p.Handle == normalized && p.State == ProviderState.Approved)
            .Select(p => new PublicProviderResponse(p.Id, p.Handle, p.Name, p.Bio, p.AvatarUrl, p.IsVerified))
            .FirstOrDefaultAsync(ct);
        return provider is null ? ApiProblem.NotFound("provider") : TypedResults.Ok(provider);
    }

    internal static ProviderResponse ToResponse(Provider p) => new(p.Id, p.Handle, p.Name, p.Bio, p.State, p.DecisionReason, p.CreatedUtc);
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
}
