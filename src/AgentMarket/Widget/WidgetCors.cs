using System.Collections.Concurrent;
using AgentMarket.Keys;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;

namespace AgentMarket.Widget;

/// <summary>
/// CORS for the widget's API, by hand because the allowed origins belong to each key. An actual request gets
/// <c>Access-Control-Allow-Origin</c> — that exact origin, never <c>*</c>, never with credentials — only once its
/// endpoint has found the origin among its key's (<see cref="Allow"/>). A preflight carries neither key nor token, so
/// it is granted to origins that at least one live publishable key allows (cached for a second, as keys are); the
/// request that follows is judged on its own key.
/// </summary>
public sealed class WidgetCors(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>The header that carries the widget session token (a custom header, so it never rides along in a URL or log).</summary>
    public const string SessionHeader = "X-Widget-Session";

    static readonly TimeSpan CacheLifetime = ApiKeyDirectory.CacheLifetime;

    // Any string can arrive as an Origin, so the cache of answers is emptied rather than allowed to grow without bound.
    const int MaxCachedOrigins = 10_000;

    readonly ConcurrentDictionary<string, (DateTime LoadedUtc, bool Allowed)> _origins = new(StringComparer.Ordinal);

    /// <summary>The request's <c>Origin</c>, normalized as allowed origins are; null when absent or not an http(s) origin.</summary>
    public static string? RequestOrigin(HttpRequest request) => AgentKeys.NormalizeOrigin(request.Headers.Origin.ToString());

    /// <summary>Lets the page at <paramref name="origin"/> read this response.</summary>
    public static void Allow(HttpResponse response, string origin)
    {
        response.Headers.AccessControlAllowOrigin = origin;
        // The widget waits as long as a 429 says.
        response.Headers.AccessControlExposeHeaders = HeaderNames.RetryAfter;
    }

    /// <summary>The answer depends on the Origin header, so no cache may hand it to another origin.</summary>
    public static void VaryByOrigin(HttpResponse response) => response.Headers.Vary = HeaderNames.Origin;

    public async Task<IResult> PreflightAsync(HttpContext http)
    {
        VaryByOrigin(http.Response);
        var origin = RequestOrigin(http.Request);
        var method = http.Request.Headers.AccessControlRequestMethod.ToString();
        if (origin is null || !(HttpMethods.IsPost(method) || HttpMethods.IsGet(method))
            || !await IsWidgetOriginAsync(origin, http.RequestAborted))
        {
            return OriginNotAllowed();
        }
        Allow(http.Response, origin);
        http.Response.Headers.AccessControlAllowMethods = "GET, POST";
        http.Response.Headers.AccessControlAllowHeaders = $"content-type, {SessionHeader.ToLowerInvariant()}";
        http.Response.Headers.AccessControlMaxAge = "600";
        return TypedResults.NoContent();
    }

    public static IResult OriginNotAllowed() => ApiProblem.Forbidden(WidgetProblemCodes.OriginNotAllowed,
        "This page's origin is not one of the widget key's allowed origins; add it in the widget settings.");

    /// <summary>Whether any live publishable key allows <paramref name="origin"/>.</summary>
    public async Task<bool> IsWidgetOriginAsync(string origin, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_origins.TryGetValue(origin, out var cached) && now - cached.LoadedUtc < CacheLifetime)
        {
            return cached.Allowed;
        }
        await using var scope = scopes.CreateAsyncScope();
        // No tenant is known before a key is: this asks only whether some key allows the origin, and answers yes or no.
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var allowed = await db.ApiKeys.AsNoTracking().AnyAsync(k => k.Kind == ApiKeyKind.Publishable && k.RevokedUtc == null
            && (k.ExpiresUtc == null || k.ExpiresUtc > now) && k.AllowedOrigins.Contains(origin), ct);
        if (_origins.Count >= MaxCachedOrigins)
        {
            _origins.Clear();
        }
        _origins[origin] = (now, allowed);
        return allowed;
    }
}
