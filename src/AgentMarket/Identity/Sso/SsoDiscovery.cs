using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using AgentMarket.Flows.Net;
using AgentMarket.Runtime;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace AgentMarket.Identity.Sso;

/// <summary>
/// OpenID Connect discovery and id_token validation, per issuer. One <see cref="ConfigurationManager{T}"/> per issuer
/// caches the discovery document and its signing keys (JWKS) and refreshes them when an id_token names a key it does not
/// know (key rotation). Every request to an identity provider goes through the outbound guard.
/// </summary>
public sealed class SsoDiscovery : IDisposable
{
    readonly ConcurrentDictionary<string, ConfigurationManager<OpenIdConnectConfiguration>> _managers = new(StringComparer.Ordinal);
    readonly JsonWebTokenHandler _tokens = new();
    readonly IOptions<SsoOptions> _options;

    public SsoDiscovery(PlatformOutbound outbound, IOptions<SsoOptions> options)
    {
        _options = options;
        Http = new HttpClient(outbound.Guard.Handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(15) };
        Http.DefaultRequestHeaders.UserAgent.ParseAdd("AgentMarket-SSO/1.0");
    }

    /// <summary>The guarded client for the token and userinfo endpoints.</summary>
    public HttpClient Http { get; }

    public static string MetadataAddress(string issuer) => issuer.TrimEnd('/') + "/.well-known/openid-configuration";

    /// <summary>The provider's discovery document; refuses one whose issuer differs from the configured one (OIDC Discovery §4.3).</summary>
    public async Task<OpenIdConnectConfiguration> GetAsync(string issuer, CancellationToken ct)
    {
        OpenIdConnectConfiguration configuration;
        try
        {
            configuration = await Manager(issuer).GetConfigurationAsync(ct);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or HttpRequestException)
        {
            // ConfigurationManager wraps fetch and parse failures in InvalidOperationException.
            throw new SsoRefusedException(UnreachableReason(e), e.Message);
        }
        if (!string.Equals(configuration.Issuer, issuer, StringComparison.Ordinal))
        {
            throw new SsoRefusedException(SsoRefusal.Misconfigured, $"discovery names issuer {configuration.Issuer}");
        }
        foreach (var endpoint in new[] { configuration.AuthorizationEndpoint, configuration.TokenEndpoint })
        {
            if (!IsAllowedEndpoint(endpoint))
            {
                throw new SsoRefusedException(SsoRefusal.Misconfigured, "discovery lacks an authorization or token endpoint, or it is not https");
            }
        }
        return configuration;
    }

    public bool IsAllowedEndpoint(string? address) =>
        Uri.TryCreate(address, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && !_options.Value.RequireHttps));

    /// <summary>
    /// Validates the id_token (signature with the provider's published keys, issuer, audience = client id, expiry, and
    /// the nonce this attempt sent) and returns its claims.
    /// </summary>
    public async Task<IDictionary<string, object>> ValidateIdTokenAsync(IdentityProvider provider, string idToken, string expectedNonce, CancellationToken ct)
    {
        var result = await ValidateOnceAsync(provider, idToken, ct);
        if (result.Exception is SecurityTokenSignatureKeyNotFoundException)
        {
            // A key we have not seen: the provider may have rotated its keys since we cached them.
            Manager(provider.Issuer).RequestRefresh();
            result = await ValidateOnceAsync(provider, idToken, ct);
        }
        if (!result.IsValid)
        {
            throw new SsoRefusedException(ReasonFor(result.Exception), result.Exception?.GetType().Name);
        }
        var claims = result.Claims;
        if (!claims.TryGetValue("nonce", out var nonce) || nonce as string != expectedNonce)
        {
            throw new SsoRefusedException(SsoRefusal.WrongNonce);
        }
        // With several audiences, the authorized party must be us (OIDC Core §3.1.3.7, steps 4 and 5).
        if (result.SecurityToken is JsonWebToken token && token.Audiences.Count() > 1
            && (!claims.TryGetValue("azp", out var azp) || azp as string != provider.ClientId))
        {
            throw new SsoRefusedException(SsoRefusal.WrongAudience);
        }
        return claims;
    }

    async Task<TokenValidationResult> ValidateOnceAsync(IdentityProvider provider, string idToken, CancellationToken ct)
    {
        var configuration = await GetAsync(provider.Issuer, ct);
        return await _tokens.ValidateTokenAsync(idToken, new TokenValidationParameters
        {
            ValidIssuer = provider.Issuer,
            ValidAudience = provider.ClientId,
            IssuerSigningKeys = configuration.SigningKeys,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = _options.Value.ClockSkew,
        });
    }

    /// <summary>The userinfo endpoint's claims (OIDC Core §5.3), or null when the provider has none.</summary>
    public async Task<JsonElement?> UserInfoAsync(OpenIdConnectConfiguration configuration, string accessToken, CancellationToken ct)
    {
        if (!IsAllowedEndpoint(configuration.UserInfoEndpoint))
        {
            return null;
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, configuration.UserInfoEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await Http.SendAsync(request, ct);
        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return null;
        }
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return document.RootElement.Clone();
    }

    /// <summary>Blocked by the outbound guard (an operator decision) or simply not reachable.</summary>
    public static string UnreachableReason(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is OutboundBlockedException)
            {
                return SsoRefusal.Blocked;
            }
        }
        return SsoRefusal.Unreachable;
    }

    static string ReasonFor(Exception? exception) => exception switch
    {
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => SsoRefusal.InvalidSignature,
        SecurityTokenInvalidIssuerException => SsoRefusal.WrongIssuer,
        SecurityTokenInvalidAudienceException => SsoRefusal.WrongAudience,
        SecurityTokenExpiredException or SecurityTokenNotYetValidException or SecurityTokenNoExpirationException => SsoRefusal.Expired,
        _ => SsoRefusal.InvalidToken,
    };

    ConfigurationManager<OpenIdConnectConfiguration> Manager(string issuer) =>
        _managers.GetOrAdd(issuer, key => new ConfigurationManager<OpenIdConnectConfiguration>(
            MetadataAddress(key), new OpenIdConnectConfigurationRetriever(), new HttpDocumentRetriever(Http) { RequireHttps = _options.Value.RequireHttps }));

    public void Dispose() => Http.Dispose();
}
