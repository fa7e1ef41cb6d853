using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Ui;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity.Sso;

/// <summary>
/// Single sign-on through operator-configured OpenID Connect providers (ADR-100): one OAuth scheme whose provider is
/// chosen per attempt, discovery and id_token validation with Microsoft.IdentityModel, and the normal cookie session.
/// </summary>
static class SsoModule
{
    public const string Scheme = "Sso";

    /// <summary>The one redirect URI operators register at every identity provider.</summary>
    public const string CallbackPath = "/signin-sso";

    public static void AddSso(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SsoOptions>().BindConfiguration("Sso");
        services.AddSingleton<SsoDiscovery>();
        services.AddSingleton<ClientSecrets>();
        services.AddScoped<SsoAccounts>();
        services.AddAuthentication().AddOAuth<SsoSchemeOptions, SsoHandler>(Scheme, "Single sign-on", o =>
        {
            o.CallbackPath = CallbackPath;
            o.SignInScheme = AuthSchemes.Cookie;
            o.UsePkce = true;
            // The callback is a top-level GET from the provider, which Lax cookies accompany; None would need https.
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Events.OnRemoteFailure = RefuseAsync;
        });
        services.AddOptions<SsoSchemeOptions>(Scheme).Configure<SsoDiscovery>((o, discovery) => o.Backchannel = discovery.Http);
    }

    public static void MapSso(this WebApplication app)
    {
        app.MapIdentityProviders();
        app.MapGet("/signin/sso/{id:guid}", StartAsync).AllowAnonymous().RequireRateLimiting(IdentityModule.AuthRateLimit).ExcludeFromDescription();
    }

    /// <summary>The "Sign in with {name}" link: a challenge of the SSO scheme for that provider.</summary>
    static async Task<IResult> StartAsync(Guid id, string? returnUrl, AppDbContext db, CancellationToken ct)
    {
        if (!await db.IdentityProviders.AnyAsync(p => p.Id == id && p.Enabled, ct))
        {
            return TypedResults.LocalRedirect(SsoRefusal.PageFor(SsoRefusal.ProviderUnavailable));
        }
        var properties = new AuthenticationProperties { RedirectUri = LocalUrl.OrDefault(returnUrl, "/dashboard") };
        properties.Items[SsoHandler.ProviderKey] = id.ToString();
        return TypedResults.Challenge(properties, [Scheme]);
    }

    static Task RefuseAsync(RemoteFailureContext context)
    {
        var reason = context.Failure switch
        {
            SsoRefusedException refusal => refusal.Reason,
            { } failure when failure.Data["error"] as string == "access_denied" => SsoRefusal.Denied,
            _ => SsoRefusal.Failed,
        };
        var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SsoModule));
        logger.LogWarning("Single sign-on refused: {Reason} ({Detail})", reason, context.Failure?.Message);
        context.Response.Redirect(SsoRefusal.PageFor(reason));
        context.HandleResponse();
        return Task.CompletedTask;
    }
}
