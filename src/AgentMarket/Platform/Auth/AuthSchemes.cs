using Microsoft.AspNetCore.Authentication;

namespace AgentMarket.Platform.Auth;

public static class AuthSchemes
{
    /// <summary>Chooses the scheme from the request: a bearer token or API key header, else the cookie.</summary>
    public const string Default = "AgentMarket";
    public const string Cookie = "Cookies";
    public const string PersonalAccessToken = "PersonalAccessToken";
    public const string ApiKey = "ApiKey";

    /// <summary>The sign-in cookie's name.</summary>
    public const string SessionCookie = "am_session";
}

public static class AppClaims
{
    public const string UserId = "sub";
    public const string Email = "email";
    public const string Name = "name";
    public const string Operator = "operator";
    public const string SecurityStamp = "stamp";

    /// <summary>The sign-in session a cookie belongs to (<see cref="Identity.UserSession"/>).</summary>
    public const string Session = "sid";

    /// <summary>Agent keys: the key, the organization and the subscription it is bound to, and secret or publishable.</summary>
    public const string KeyId = "key";
    public const string KeyOrganization = "key_org";
    public const string KeyConfig = "key_config";
    public const string KeyKind = "key_kind";
}

/// <summary>
/// Why a presented credential was refused, kept on the request so the 401 can say it (the framework keeps only successful
/// results). Messages are whole sentences that say what to do, and never include the credential.
/// </summary>
public sealed record CredentialRefused(string Message, int Status = StatusCodes.Status401Unauthorized, string? Code = null)
{
    public static AuthenticateResult Fail(HttpContext context, string message) => Fail(context, new CredentialRefused(message));

    public static AuthenticateResult Fail(HttpContext context, CredentialRefused refusal)
    {
        context.Features.Set(refusal);
        return AuthenticateResult.Fail(refusal.Message);
    }

    /// <summary>A valid credential of an organization an operator suspended: 403, so its holder does not replace a good key.</summary>
    public static readonly CredentialRefused OrganizationSuspended =
        new(Errors.ProblemCodes.OrganizationSuspendedMessage, StatusCodes.Status403Forbidden, Errors.ProblemCodes.OrganizationSuspended);
}
