using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OAuth;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace AgentMarket.Identity.Sso;

/// <summary>
/// Options of the one SSO scheme. What differs per identity provider (endpoints, client id and secret, scopes) is not
/// here: the handler resolves it per attempt from the database (ADR-100), so the base class's checks for those fixed
/// values do not apply.
/// </summary>
public sealed class SsoSchemeOptions : OAuthOptions
{
    public override void Validate()
    {
        if (!CallbackPath.HasValue)
        {
            throw new InvalidOperationException("The SSO scheme needs a callback path.");
        }
    }
}

/// <summary>
/// The framework's OAuth handler (state protection, correlation cookie, the callback endpoint, sign-in into the cookie
/// scheme and the return redirect), with the per-provider parts resolved per attempt: the provider chosen on the
/// sign-in page travels in the protected state, its endpoints come from its discovery document, and the id_token is
/// validated before anything is signed in. Adds the OpenID Connect parts the OAuth handler lacks: the nonce, the
/// id_token, and user provisioning.
/// </summary>
sealed class SsoHandler(IOptionsMonitor<SsoSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AppDbContext db, SsoDiscovery discovery, SsoAccounts accounts, UserSessions sessions, ClientSecrets secrets)
    : OAuthHandler<SsoSchemeOptions>(options, logger, encoder)
{
    public const string ProviderKey = "sso.provider";
    const string NonceKey = "sso.nonce";

    IdentityProvider? _provider;
    OpenIdConnectConfiguration? _configuration;

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        try
        {
            await ResolveAsync(properties);
        }
        catch (SsoRefusedException refusal)
        {
            Logger.LogWarning("Single sign-on could not start: {Reason} ({Detail})", refusal.Reason, refusal.Message);
            Response.Redirect(SsoRefusal.PageFor(refusal.Reason));
            return;
        }
        // The nonce rides in the state, which Data Protection encrypts and the correlation cookie binds to this browser.
        properties.Items[NonceKey] = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        await base.HandleChallengeAsync(properties);
    }

    protected override string BuildChallengeUrl(AuthenticationProperties properties, string redirectUri)
    {
        // PKCE (RFC 7636) with S256, as the base handler does; the verifier is kept in the protected state.
        var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        properties.Items[OAuthConstants.CodeVerifierKey] = verifier;
        var parameters = new Dictionary<string, string?>
        {
            ["client_id"] = _provider!.ClientId,
            ["scope"] = _provider.Scopes,
            ["response_type"] = "code",
            ["redirect_uri"] = redirectUri,
            ["nonce"] = properties.Items[NonceKey],
            [OAuthConstants.CodeChallengeKey] = WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))),
            [OAuthConstants.CodeChallengeMethodKey] = OAuthConstants.CodeChallengeMethodS256,
        };
        parameters["state"] = Options.StateDataFormat.Protect(properties);
        return QueryHelpers.AddQueryString(_configuration!.AuthorizationEndpoint, parameters);
    }

    protected override async Task<OAuthTokenResponse> ExchangeCodeAsync(OAuthCodeExchangeContext context)
    {
        await ResolveAsync(context.Properties);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = context.Code,
            ["redirect_uri"] = context.RedirectUri,
        };
        if (context.Properties.Items.Remove(OAuthConstants.CodeVerifierKey, out var verifier) && verifier is not null)
        {
            form[OAuthConstants.CodeVerifierKey] = verifier;
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, _configuration!.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        // client_secret_basic, which every OAuth server must support (RFC 6749 §2.3.1): both parts form-encoded first.
        var secret = secrets.Unprotect(_provider!.ClientSecretProtected);
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(
            $"{Uri.EscapeDataString(_provider.ClientId)}:{Uri.EscapeDataString(secret)}")));
        HttpResponseMessage response;
        try
        {
            response = await Backchannel.SendAsync(request, Context.RequestAborted);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            return OAuthTokenResponse.Failed(new SsoRefusedException(SsoDiscovery.UnreachableReason(e), e.Message));
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                // The body may echo request details; the status is enough to diagnose and is not sensitive.
                return OAuthTokenResponse.Failed(new SsoRefusedException(SsoRefusal.TokenRequestFailed, $"token endpoint answered {(int)response.StatusCode}"));
            }
            return OAuthTokenResponse.Success(JsonDocument.Parse(await response.Content.ReadAsStringAsync(Context.RequestAborted)));
        }
    }

    protected override async Task<AuthenticationTicket> CreateTicketAsync(ClaimsIdentity identity, AuthenticationProperties properties, OAuthTokenResponse tokens)
    {
        if (tokens.Response?.RootElement.TryGetProperty("id_token", out var idTokenElement) != true || idTokenElement.GetString() is not { Length: > 0 } idToken)
        {
            throw new SsoRefusedException(SsoRefusal.InvalidToken, "no id_token in the token response (is the openid scope configured?)");
        }
        var nonce = properties.Items.TryGetValue(NonceKey, out var sent) ? sent : null;
        var claims = await discovery.ValidateIdTokenAsync(_provider!, idToken, nonce ?? "", Context.RequestAborted);
        var userInfo = string.IsNullOrEmpty(tokens.AccessToken) ? null : await discovery.UserInfoAsync(_configuration!, tokens.AccessToken, Context.RequestAborted);
        var profile = SsoProfile.From(claims, userInfo);

        var user = await accounts.SignInAsync(_provider!, profile, Context.RequestAborted);
        // The base handler signs this ticket into the cookie scheme: it names a session like any other sign-in's.
        var sessionId = await sessions.StartAsync(Context, user.Id, Context.RequestAborted);

        properties.Items.Remove(ProviderKey);
        properties.Items.Remove(NonceKey);
        properties.IsPersistent = true;
        return new AuthenticationTicket(Accounts.PrincipalFor(user, AuthSchemes.Cookie, sessionId), properties, AuthSchemes.Cookie);
    }

    /// <summary>The provider this attempt is for (still enabled) and its discovery document.</summary>
    async Task ResolveAsync(AuthenticationProperties properties)
    {
        if (_provider is not null)
        {
            return;
        }
        if (!properties.Items.TryGetValue(ProviderKey, out var value) || !Guid.TryParse(value, out var providerId))
        {
            throw new SsoRefusedException(SsoRefusal.ProviderUnavailable);
        }
        var provider = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == providerId && p.Enabled, Context.RequestAborted)
            ?? throw new SsoRefusedException(SsoRefusal.ProviderUnavailable);
        _configuration = await discovery.GetAsync(provider.Issuer, Context.RequestAborted);
        _provider = provider;
    }
}

/// <summary>What single sign-on needs of a person: the id_token's claims, completed by the userinfo endpoint's.</summary>
public sealed record SsoProfile(string Subject, string? Email, bool EmailVerified, string? Name)
{
    public static SsoProfile From(IDictionary<string, object> idToken, JsonElement? userInfo)
    {
        var subject = idToken.TryGetValue("sub", out var sub) ? sub as string : null;
        if (string.IsNullOrEmpty(subject))
        {
            throw new SsoRefusedException(SsoRefusal.InvalidToken, "id_token without sub");
        }
        // Userinfo claims count only when they are about the same subject (OIDC Core §5.3.2).
        var info = userInfo is { ValueKind: JsonValueKind.Object } element
            && element.TryGetProperty("sub", out var infoSub) && infoSub.GetString() == subject ? element : (JsonElement?)null;

        string? Text(string claim) =>
            idToken.TryGetValue(claim, out var value) && value is string text ? text
            : info?.TryGetProperty(claim, out var property) == true && property.ValueKind == JsonValueKind.String ? property.GetString()
            : null;

        // Some providers send email_verified as the string "true".
        bool Verified() =>
            idToken.TryGetValue("email_verified", out var value) ? value is true || value is string s && bool.TryParse(s, out var b) && b
            : info?.TryGetProperty("email_verified", out var property) == true
              && (property.ValueKind == JsonValueKind.True || property.ValueKind == JsonValueKind.String && bool.TryParse(property.GetString(), out var parsed) && parsed);

        return new SsoProfile(subject, Text("email"), Verified(), Text("name"));
    }
}
