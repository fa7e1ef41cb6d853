using System.Security.Claims;
using AgentMarket.Identity;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Platform.Tenancy;

/// <summary>
/// Declares an endpoint's access (<see cref="EndpointAccessMetadata"/>); <see cref="EndpointAccessMiddleware"/> enforces it
/// before the request body is read or validated. For organization endpoints it
/// resolves the organization — <c>X-Organization</c> header, <c>organization</c> query parameter, the UI's chosen
/// organization cookie, else the caller's first organization — checks membership and role, and sets
/// <see cref="CurrentTenant"/>, which the data layer's tenant filter reads. A non-member gets the same 404 as for an
/// organization that does not exist, so ids of other tenants reveal nothing.
/// </summary>
public static class OrganizationScope
{
    public const string Header = "X-Organization";
    public const string QueryParameter = "organization";
    public const string UiCookie = "am_org";

    public static TBuilder RequireOrganization<TBuilder>(this TBuilder builder, MembershipRole minimumRole = MembershipRole.Member, string? fromRouteParameter = null)
        where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new EndpointAccessMetadata(AccessKind.Organization, minimumRole, fromRouteParameter));
        builder.RequireAuthorization();
        return builder;
    }

    /// <summary>
    /// An organization endpoint that an agent key may call as well (the run endpoints): the key's organization is the
    /// tenant, with member rights, and the handler must still check the key's subscription.
    /// </summary>
    public static TBuilder RequireOrganizationOrAgentKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new EndpointAccessMetadata(AccessKind.Organization, MembershipRole.Member, AcceptsAgentKeys: true));
        builder.RequireAuthorization();
        return builder;
    }

    public static bool IsAgentKey(this ClaimsPrincipal user) => user.HasClaim(c => c.Type == AppClaims.KeyOrganization);

    public static TBuilder RequireUser<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new EndpointAccessMetadata(AccessKind.User));
        builder.RequireAuthorization();
        return builder;
    }

    public static TBuilder AllowAnyone<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new EndpointAccessMetadata(AccessKind.Anonymous));
        builder.AllowAnonymous();
        return builder;
    }

    /// <summary>Operators only. Everyone else, signed in or not, gets 404: the route's existence is not disclosed.</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(new EndpointAccessMetadata(AccessKind.Operator));
        builder.AllowAnonymous();
        return builder;
    }

    public static bool IsOperator(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && user.HasClaim(AppClaims.Operator, "true");

    /// <summary>
    /// Resolves and checks the organization for this request and sets <see cref="CurrentTenant"/>. Returns null when the
    /// caller is not a member of the requested organization (or belongs to none). Pages call this too.
    /// </summary>
    public static async Task<Guid?> ResolveAsync(HttpContext http, string? routeParameter, CancellationToken cancellationToken)
    {
        var tenant = http.RequestServices.GetRequiredService<CurrentTenant>();
        if (tenant.OrganizationId is { } resolved)
        {
            return resolved;
        }
        var requested = RequestedOrganization(http, routeParameter, out var malformed);
        if (malformed)
        {
            return null;
        }
        if (Guid.TryParse(http.User.FindFirst(AppClaims.KeyOrganization)?.Value, out var keyOrganization))
        {
            // A key acts only for its own organization.
            if (requested is { } other && other != keyOrganization)
            {
                return null;
            }
            tenant.Set(keyOrganization, MembershipRole.Member);
            return keyOrganization;
        }
        if (tenant.UserId is not { } userId)
        {
            return null;
        }
        var db = http.RequestServices.GetRequiredService<AppDbContext>();
        // The membership filter lets a user see their own memberships in every organization, so this needs no bypass.
        var memberships = db.Memberships.AsNoTracking().Where(m => m.UserId == userId);
        var membership = requested is { } organizationId
            ? await memberships.Where(m => m.OrganizationId == organizationId).Select(m => new { m.OrganizationId, m.Role }).FirstOrDefaultAsync(cancellationToken)
            : await memberships.OrderBy(m => m.Role).ThenBy(m => m.CreatedUtc).Select(m => new { m.OrganizationId, m.Role }).FirstOrDefaultAsync(cancellationToken);
        if (membership is null)
        {
            return null;
        }
        tenant.Set(membership.OrganizationId, membership.Role);
        return membership.OrganizationId;
    }

    static Guid? RequestedOrganization(HttpContext http, string? routeParameter, out bool malformed)
    {
        malformed = false;
        string? raw = null;
        if (routeParameter is not null && http.Request.RouteValues.TryGetValue(routeParameter, out var routeValue))
        {
            raw = routeValue?.ToString();
        }
        raw ??= http.Request.Headers[Header].FirstOrDefault()
            ?? http.Request.Query[QueryParameter].FirstOrDefault()
            ?? http.Request.Cookies[UiCookie];
        if (string.IsNullOrWhiteSpace(raw))
        {
            return null;
        }
        if (Guid.TryParse(raw, out var id))
        {
            return id;
        }
        malformed = true;
        return null;
    }
}

/// <summary>
/// Enforces <see cref="EndpointAccessMetadata"/> after authentication and before model binding, so a caller who may not
/// use an organization or operator route learns nothing from it — not even whether their body would have been valid.
/// </summary>
sealed class EndpointAccessMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var access = context.GetEndpoint()?.Metadata.GetMetadata<EndpointAccessMetadata>();
        switch (access?.Kind)
        {
            case AccessKind.Operator when !context.User.IsOperator():
                await Errors.ApiProblem.NotFound().ExecuteAsync(context);
                return;
            case AccessKind.User when context.User.IsAgentKey():
            case AccessKind.Organization when context.User.IsAgentKey() && !access.AcceptsAgentKeys:
                // Keys run agents; they never manage an organization.
                await Errors.ApiProblem.NotFound().ExecuteAsync(context);
                return;
            case AccessKind.Organization when context.User.HasClaim(AppClaims.KeyKind, nameof(Keys.ApiKeyKind.Publishable)):
                // A publishable key sits in public web pages: anyone can copy it, so it runs nothing on its own. It only
                // opens widget sessions from its allowed origins (Widget/), which are not organization routes.
                await Errors.ApiProblem.Forbidden("publishable_key",
                    "Publishable keys (am_pub_…) work only in the chat widget; call this API with a secret key (am_live_…).").ExecuteAsync(context);
                return;
            case AccessKind.Organization when context.User.Identity?.IsAuthenticated == true:
                if (await OrganizationScope.ResolveAsync(context, access.OrganizationRouteParameter, context.RequestAborted) is null)
                {
                    await Errors.ApiProblem.NotFound("organization").ExecuteAsync(context);
                    return;
                }
                if (!context.RequestServices.GetRequiredService<CurrentTenant>().HasRole(access.MinimumRole))
                {
                    await Errors.ApiProblem.Forbidden(Errors.ProblemCodes.InsufficientRole,
                        $"This action needs the {access.MinimumRole.ToString().ToLowerInvariant()} role or higher.").ExecuteAsync(context);
                    return;
                }
                break;
        }
        await next(context);
    }
}
