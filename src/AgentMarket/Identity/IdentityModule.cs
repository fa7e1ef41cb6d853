using AgentMarket.Identity.Sso;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.RateLimiting;

namespace AgentMarket.Identity;

/// <summary>Users, organizations, projects, memberships, invitations, tokens and operators (SPEC §1).</summary>
static class IdentityModule
{
    public const string AuthRateLimit = "auth";

    public static void AddIdentityArea(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AccountOptions>().BindConfiguration("Identity").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AdminOptions>().BindConfiguration("Admin");
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddScoped<OrganizationFactory>();
        services.AddScoped<Accounts>();
        services.AddScoped<TokenIssuer>();
        services.AddScoped<Passwords>();
        services.AddScoped<EmailChanges>();
        services.AddScoped<EmailChangeReverts>();
        services.AddMemoryCache();
        services.AddSingleton<SessionStamps>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<UserSessions>();
        // A cookie issued before its user's password changed, or whose session has ended, is signed out (ADR-132).
        services.PostConfigure<CookieAuthenticationOptions>(AuthSchemes.Cookie, o =>
            o.Events.OnValidatePrincipal = context => context.HttpContext.RequestServices.GetRequiredService<SessionStamps>().ValidateAsync(context));
        services.AddScoped<Invitations>();
        services.AddScoped<Members>();
        services.AddScoped<OrganizationSettingsChanges>();
        services.AddScoped<Operators>();
        services.AddHostedService<OperatorBootstrap>();
        builder.AddSso();       // operator-configured OpenID Connect providers (Sso/, ADR-100)
        // The policy counts in AuthRequestLimit, which the pages' forms use too: one budget per client address for both.
        services.AddSingleton<AuthRequestLimit>();
        services.AddOptions<RateLimiterOptions>().Configure<AuthRequestLimit>((limiter, limit) => limiter.AddPolicy(AuthRateLimit, limit.Partition));
    }

    public static void MapIdentity(this WebApplication app)
    {
        app.MapAuth();
        app.MapOrganizations();
        app.MapInvitations();
        app.MapSso();

        // Form posts from the pages (not API): sign out and switch the organization the UI works in.
        app.MapPost("/signout", async (UserSessions sessions, HttpContext http) =>
        {
            await sessions.SignOutAsync(http);
            http.Response.Cookies.Delete(OrganizationScope.UiCookie);
            return TypedResults.LocalRedirect("/");
        }).WithMetadata(new RequireAntiforgeryTokenAttribute()).ExcludeFromDescription();

        app.MapPost("/organization/switch", SwitchOrganizationAsync)
            .RequireAuthorization().WithMetadata(new RequireAntiforgeryTokenAttribute()).ExcludeFromDescription();
    }

    static async Task<IResult> SwitchOrganizationAsync(HttpContext http, CancellationToken ct)
    {
        var form = await http.Request.ReadFormAsync(ct);
        var requested = form["organization"].ToString();
        http.Request.Headers[OrganizationScope.Header] = requested;
        if (await OrganizationScope.ResolveAsync(http, null, ct) is { } organizationId)
        {
            http.Response.Cookies.Append(OrganizationScope.UiCookie, organizationId.ToString(),
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
        }
        return TypedResults.LocalRedirect("/organization");
    }
}
