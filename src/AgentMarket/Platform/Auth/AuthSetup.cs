using AgentMarket.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace AgentMarket.Platform.Auth;

static class AuthSetup
{
    /// <summary>How long a sign-in cookie lasts without being used (each use past half of it renews it).</summary>
    public static readonly TimeSpan CookieLifetime = TimeSpan.FromDays(14);

    public static void AddPlatformAuth(this IServiceCollection services)
    {
        services.AddAuthentication(AuthSchemes.Default)
            .AddPolicyScheme(AuthSchemes.Default, "Cookie or token", o => o.ForwardDefaultSelector = SelectScheme)
            .AddCookie(AuthSchemes.Cookie, o =>
            {
                o.Cookie.Name = AuthSchemes.SessionCookie;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/signin";
                o.AccessDeniedPath = "/signin";
                o.ExpireTimeSpan = CookieLifetime;
                o.SlidingExpiration = true;
                // API callers get status codes, not redirects to the sign-in page.
                o.Events.OnRedirectToLogin = context => RedirectOrStatus(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => RedirectOrStatus(context, StatusCodes.Status403Forbidden);
            })
            .AddScheme<AuthenticationSchemeOptions, PersonalAccessTokenHandler>(AuthSchemes.PersonalAccessToken, null)
            .AddScheme<AuthenticationSchemeOptions, Keys.ApiKeyAuthenticationHandler>(AuthSchemes.ApiKey, null);
        services.AddAuthorization();
    }

    // A request that carries credentials is judged by them alone, never by a cookie that came along.
    static string SelectScheme(HttpContext context) =>
        Keys.ApiKeyAuthenticationHandler.Presented(context.Request) is not null ? AuthSchemes.ApiKey
        : context.Request.Headers.Authorization.Count > 0 || Identity.PersonalAccessTokenHandler.Presented(context.Request) is not null ? AuthSchemes.PersonalAccessToken
        : AuthSchemes.Cookie;

    static Task RedirectOrStatus(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (IsApiRequest(context.Request))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    public static bool IsApiRequest(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/v1") || request.Path.StartsWithSegments("/mcp");
}
