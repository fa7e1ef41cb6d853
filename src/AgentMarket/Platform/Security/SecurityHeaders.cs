using AgentMarket.Payments;
using AgentMarket.Platform.Ui;
using Microsoft.AspNetCore.CookiePolicy;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AgentMarket.Platform.Security;

/// <summary>
/// The headers with which pages defend themselves (ADR-165): a Content-Security-Policy on every HTML response, nosniff and
/// a referrer policy on every response, and, when the marketplace is served over https, Strict-Transport-Security and
/// cookies that are always Secure.
/// </summary>
static class SecurityHeaders
{
    /// <summary>A year: browsers that have seen the header refuse plain http for that long.</summary>
    public static readonly string Hsts = $"max-age={(int)TimeSpan.FromDays(365).TotalSeconds}";

    /// <summary>First after the proxies are believed (so <c>IsHttps</c> is the client's), before anything writes a response or a cookie.</summary>
    public static void UseSecurityHeaders(this WebApplication app)
    {
        var publicUrlIsHttps = PublicUrlIsHttps(app.Configuration);
        // Behind a proxy that terminates TLS the app may see plain http, but the browser sees https: the configured public
        // address says so. Without it, a request that arrived over https gets Secure cookies; none is ever downgraded.
        app.UseCookiePolicy(new CookiePolicyOptions { Secure = publicUrlIsHttps ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest });
        app.UseMiddleware<SecurityHeadersMiddleware>(publicUrlIsHttps);
    }

    static readonly object ImageOriginsKey = new();

    /// <summary>
    /// Lets the page of this request show images from the origin of the https URL <paramref name="url"/> (ADR-171): a
    /// page that shows a user's remote image (the widget preview with the buyer's logo) widens its own policy, not every
    /// page's. Call it before the response starts; anything but an absolute https URL is ignored.
    /// </summary>
    public static void AllowImagesFrom(HttpContext context, string? url)
    {
        if (url?.StartsWith("https://", StringComparison.OrdinalIgnoreCase) == true && OriginOf(url) is { } origin)
        {
            ((List<string>)(context.Items[ImageOriginsKey] ??= new List<string>())).Add(origin);
        }
    }

    /// <summary>The origins <see cref="AllowImagesFrom"/> added for this request.</summary>
    public static IEnumerable<string> ImageOriginsAllowedFor(HttpContext context) =>
        context.Items[ImageOriginsKey] as List<string> ?? [];

    public static bool PublicUrlIsHttps(IConfiguration configuration) =>
        Uri.TryCreate(configuration["Marketplace:PublicUrl"], UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps;

    /// <summary>The origin of an absolute http(s) URL as a CSP source (<c>https://cdn.example.com:8443</c>), else null: relative paths are 'self' already.</summary>
    public static string? OriginOf(string? url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.IdnHost.Length == 0)
        {
            return null;
        }
        // IdnHost keeps the header ASCII; an IPv6 address keeps its brackets (Host has them, IdnHost does not).
        var host = (uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost).ToLowerInvariant();
        return uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
    }
}

sealed class SecurityHeadersMiddleware(RequestDelegate next, bool publicUrlIsHttps, IConfiguration configuration, IHostEnvironment environment,
    IOptionsMonitor<BrandingOptions> branding, IOptions<StripeOptions> stripe)
{
    // Where the marketplace's own form posts may redirect the browser: browsers hold the redirect of a form post to the
    // page's form-action (Chromium does; ContentSecurityPolicyBrowserTests checks). The sandbox checkout is on the public
    // address; Stripe's checkout and Connect onboarding on Stripe's, or Checkout on the account's custom domain (ADR-171).
    readonly string _formAction = string.Join(' ', new[]
    {
        "'self'",
        SecurityHeaders.OriginOf(configuration["Marketplace:PublicUrl"]),
        stripe.Value.Enabled ? "https://checkout.stripe.com https://connect.stripe.com" : null,
        stripe.Value.Enabled ? SecurityHeaders.OriginOf(stripe.Value.CheckoutCustomDomain?.OriginalString) : null,
    }.OfType<string>().Distinct());

    public Task InvokeAsync(HttpContext context)
    {
        // At the start of the response, so the headers are there whatever wrote it: an endpoint, a static file, the
        // exception handler (which clears headers set earlier), a status page.
        context.Response.OnStarting(() =>
        {
            Apply(context);
            return Task.CompletedTask;
        });
        return next(context);
    }

    void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.TryAdd(HeaderNames.XContentTypeOptions, "nosniff");
        headers.TryAdd("Referrer-Policy", "strict-origin-when-cross-origin");
        if (publicUrlIsHttps || (context.Request.IsHttps && !IsLoopback(context.Request.Host) && !environment.IsDevelopment()))
        {
            headers.TryAdd(HeaderNames.StrictTransportSecurity, SecurityHeaders.Hsts);
        }
        // Only documents get a policy; JSON, scripts and styles have nothing for it to govern, and a response that set its
        // own (an uploaded image's sandbox) keeps it.
        if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
        {
            headers.TryAdd(HeaderNames.ContentSecurityPolicy, PagePolicy(context));
        }
    }

    string PagePolicy(HttpContext context)
    {
        var brand = branding.CurrentValue;
        // The operator's logo and favicon may live on another site (Settings allows an https:// URL): exactly that origin
        // may serve images, and on the page that asked for it, the origin of a user's image it shows (the widget preview's
        // logo); nothing else remote. Sellers' Markdown cannot add images from elsewhere (SafeMarkdown).
        var images = string.Join(' ', new[] { "'self'", "data:", SecurityHeaders.OriginOf(brand.LogoUrl), SecurityHeaders.OriginOf(brand.FaviconUrl) }
            .Concat(SecurityHeaders.ImageOriginsAllowedFor(context)).OfType<string>().Distinct());
        // Scripts are files under wwwroot only: no inline script, no eval. Styles allow inline <style> because the layout
        // sets the brand color in one and the widget (the agent page's playground, the widget preview) styles its shadow
        // root with one; there are no style attributes to need it, and markup from users is escaped everywhere.
        return $"default-src 'self'; img-src {images}; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; "
            + $"base-uri 'self'; form-action {_formAction}; frame-ancestors 'none'";
    }

    static bool IsLoopback(HostString host) =>
        host.Host is "localhost" || (System.Net.IPAddress.TryParse(host.Host, out var address) && System.Net.IPAddress.IsLoopback(address));
}
