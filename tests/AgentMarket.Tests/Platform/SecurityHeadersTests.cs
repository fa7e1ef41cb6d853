using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Auth;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;

namespace AgentMarket.Tests.Platform;

/// <summary>The marketplace behind a proxy that terminates TLS: its public address is https, its logo on a CDN.</summary>
public sealed class HttpsPublicApp : AgentMarketApp
{
    public const string PublicUrl = "https://market.test";
    public const string Logo = "https://cdn.brand.test:8443/logo.svg";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:PublicUrl", PublicUrl), new("Branding:LogoUrl", Logo)];
}

/// <summary>
/// Pages defend themselves (ADR-165): every HTML response carries a Content-Security-Policy that allows only this site's
/// scripts, no framing and no remote images but the operator's logo; every response says nosniff and a referrer policy;
/// JSON responses get no page policy. On plain http nothing claims https.
/// </summary>
public class SecurityHeadersTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/signin")]
    [InlineData("/no-such-page")] // the status page, re-executed
    public async Task Pages_CarryThePolicy_AndTheSafeHeaders(string path)
    {
        var response = await app.CreateClient().GetAsync(path);

        Assert.StartsWith("text/html", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        var policy = Directives(response);
        Assert.Equal("'self'", policy["default-src"]);
        Assert.Equal("'self'", policy["script-src"]);
        Assert.Equal("'self' data:", policy["img-src"]);
        Assert.Equal("'none'", policy["object-src"]);
        Assert.Equal("'self'", policy["base-uri"]);
        Assert.Equal("'self'", policy["form-action"]);
        Assert.Equal("'none'", policy["frame-ancestors"]);
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
        Assert.False(response.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task ApiJsonAndScripts_GetNoPagePolicy_ButNosniff()
    {
        foreach (var path in new[] { "/api/marketplace/agents/", "/healthz", "/js/chat.js", "/widget.js" })
        {
            var response = await app.CreateClient().GetAsync(path);

            await Http.AssertStatusAsync(response, HttpStatusCode.OK);
            Assert.False(response.Headers.Contains("Content-Security-Policy"), path);
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        }
    }

    [Fact]
    public async Task OnlyARequestOverHttps_GetsHsts_AndSecureCookies()
    {
        var https = app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri("https://market.example") });

        var overHttps = await https.GetAsync("/signin");
        var overHttp = await app.CreateClient().GetAsync("/signin");

        await Http.AssertStatusAsync(overHttps, HttpStatusCode.OK);
        Assert.StartsWith("max-age=", Header(overHttps, "Strict-Transport-Security"), StringComparison.Ordinal);
        Assert.Contains("secure", SetCookie(overHttps, ".AspNetCore.Antiforgery"), StringComparison.OrdinalIgnoreCase);
        await Http.AssertStatusAsync(overHttp, HttpStatusCode.OK);
        Assert.False(overHttp.Headers.Contains("Strict-Transport-Security"));
        Assert.DoesNotContain("secure", SetCookie(overHttp, ".AspNetCore.Antiforgery"), StringComparison.OrdinalIgnoreCase);
    }

    internal static Dictionary<string, string> Directives(HttpResponseMessage response) =>
        Header(response, "Content-Security-Policy").Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => d.Split(' ', 2)).ToDictionary(d => d[0], d => d.Length > 1 ? d[1] : "");

    internal static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? values.Single() : throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri} has no {name} header.");

    internal static string SetCookie(HttpResponseMessage response, string namePrefix) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.FirstOrDefault(c => c.StartsWith(namePrefix, StringComparison.Ordinal)) is { } cookie
            ? cookie : throw new Xunit.Sdk.XunitException($"No {namePrefix} cookie was set.");
}

/// <summary>
/// Served over https behind a proxy (the public address is https), cookies are Secure even though the app itself sees
/// plain http, responses carry Strict-Transport-Security, and the operator's logo on another site may be shown.
/// </summary>
public class HttpsPublicAddressTests(HttpsPublicApp app) : IClassFixture<HttpsPublicApp>
{
    [Fact]
    public async Task SessionAndAntiforgeryCookies_AreSecure_AndResponsesCarryHsts()
    {
        // The app sees http, as behind a proxy that terminates TLS; the test client keeps Secure cookies off http, so it
        // reads the headers instead.
        var client = app.CreateClient();
        var signUp = await client.PostAsJsonAsync("/api/auth/signup", new { email = $"https-{Guid.NewGuid():N}@tests.example", password = AgentMarketApp.DefaultPassword, name = "Https" });
        var form = await client.GetAsync("/signin");

        await Http.AssertStatusAsync(signUp, HttpStatusCode.Created);
        Assert.Contains("secure", SecurityHeadersTests.SetCookie(signUp, AuthSchemes.SessionCookie), StringComparison.OrdinalIgnoreCase);
        await Http.AssertStatusAsync(form, HttpStatusCode.OK);
        Assert.Contains("secure", SecurityHeadersTests.SetCookie(form, ".AspNetCore.Antiforgery"), StringComparison.OrdinalIgnoreCase);
        foreach (var response in new[] { signUp, form })
        {
            Assert.StartsWith("max-age=", SecurityHeadersTests.Header(response, "Strict-Transport-Security"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheOperatorsRemoteLogo_IsTheOneRemoteImageOrigin()
    {
        var response = await app.CreateClient().GetAsync("/");

        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains($"src=\"{HttpsPublicApp.Logo}\"", page, StringComparison.Ordinal);
        var images = SecurityHeadersTests.Directives(response)["img-src"].Split(' ');
        Assert.Equal(["'self'", "data:", new Uri(HttpsPublicApp.Logo).GetLeftPart(UriPartial.Authority)], images);
        // The sandbox checkout lives on the public address, where the credits page's form post redirects.
        Assert.Contains(HttpsPublicApp.PublicUrl, SecurityHeadersTests.Directives(response)["form-action"].Split(' '));
    }
}
