using AgentMarket.Keys;
using AgentMarket.Platform.Errors;

namespace AgentMarket.Platform.Auth;

/// <summary>Endpoint metadata: the endpoint takes cross-site requests by design and checks its callers itself.</summary>
public sealed record CrossSiteAllowedMetadata;

public static class CrossSiteRequestExtensions
{
    /// <summary>
    /// Lets pages of other sites call the endpoint with an unsafe method while a signed-in user's cookie comes along. Only
    /// for endpoints that authenticate with something the browser does not add by itself (the widget's publishable key
    /// and session token, a webhook's signature).
    /// </summary>
    public static TBuilder AllowCrossSite<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new CrossSiteAllowedMetadata());
}

/// <summary>
/// Refuses API requests that change something (POST, PUT, PATCH, DELETE) on the strength of the sign-in cookie when a
/// browser says another origin's page sent them (ADR-157). The cookie's SameSite=Lax keeps it off other sites' posts,
/// but not off those of another origin of the same site (a sibling subdomain) nor in browsers that ignore SameSite.
/// The browser's own word decides: <c>Sec-Fetch-Site</c> must be <c>same-origin</c> (or <c>none</c>, a request the user
/// started); browsers that do not send it send <c>Origin</c>, which must be this app's. A request with neither header is
/// not a browser's cross-site request (curl, server clients). Tokens and API keys are not ambient, so their requests are
/// not checked; Blazor's form posts are not API requests and carry antiforgery tokens instead.
/// </summary>
sealed class CrossSiteRequestMiddleware(RequestDelegate next, IConfiguration configuration)
{
    public const string Message = "This request came from another site's page with your sign-in cookie, so it was refused. " +
        "Use the marketplace's own pages, or call the API with a personal access token.";

    // Behind a proxy that rewrites the Host or terminates TLS, the request's own origin is not the one browsers see;
    // the configured public address is.
    readonly string? _publicOrigin = AgentKeys.NormalizeOrigin(configuration["Marketplace:PublicUrl"]?.TrimEnd('/'));

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method)
            || !AuthSetup.IsApiRequest(request)
            || context.User.Identity is not { IsAuthenticated: true, AuthenticationType: AuthSchemes.Cookie }
            || context.GetEndpoint()?.Metadata.GetMetadata<CrossSiteAllowedMetadata>() is not null
            || IsSameOrigin(request))
        {
            return next(context);
        }
        return ApiProblem.Forbidden(ProblemCodes.CrossSiteRequest, Message).ExecuteAsync(context);
    }

    bool IsSameOrigin(HttpRequest request)
    {
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0)
        {
            return fetchSite is "same-origin" or "none";
        }
        if (request.Headers.Origin.Count == 0)
        {
            return true;
        }
        // "null" (a sandboxed or privacy-sensitive context) and anything unparsable normalize to null: not ours.
        var origin = AgentKeys.NormalizeOrigin(request.Headers.Origin.ToString());
        return origin is not null
            && (origin == AgentKeys.NormalizeOrigin($"{request.Scheme}://{request.Host}") || origin == _publicOrigin);
    }
}
