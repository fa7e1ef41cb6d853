using System.Text.Encodings.Web;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>
/// Authenticates <c>Authorization: Bearer am_pat_…</c>, or the token in <c>x-api-key</c> (the one header Langflow's
/// clients send), against the stored hash; revoked or expired tokens fail at once.
/// </summary>
sealed class PersonalAccessTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AppDbContext db, TimeProvider clock)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Prefix = "am_pat_";

    // Recording every use would turn each API call into a write; a minute's precision is enough for "last used".
    static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } token)
        {
            return AuthenticateResult.NoResult();
        }
        if (!SecretToken.IsWellFormed(token, Prefix))
        {
            return CredentialRefused.Fail(Context, "Malformed token. Send a valid one.");
        }
        var hash = SecretToken.Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        var found = await db.PersonalAccessTokens.AsNoTracking()
            .Where(t => t.TokenHash == hash && t.RevokedUtc == null && (t.ExpiresUtc == null || t.ExpiresUtc > now))
            .Join(db.Users, t => t.UserId, u => u.Id, (t, u) => new { Token = t, User = u })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (found is null)
        {
            return CredentialRefused.Fail(Context, "Unknown, revoked or expired token. Send a valid one.");
        }
        if (found.Token.LastUsedUtc is null || now - found.Token.LastUsedUtc > LastUsedPrecision)
        {
            await db.PersonalAccessTokens.Where(t => t.Id == found.Token.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedUtc, now), Context.RequestAborted);
        }
        return AuthenticateResult.Success(new AuthenticationTicket(Accounts.PrincipalFor(found.User, Scheme.Name), Scheme.Name));
    }

    /// <summary>The personal access token the request presents, if any.</summary>
    public static string? Presented(HttpRequest request)
    {
        if (BearerToken(request) is { } bearer && bearer.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return bearer;
        }
        var header = request.Headers["x-api-key"].ToString().Trim();
        return header.StartsWith(Prefix, StringComparison.Ordinal) ? header : null;
    }

    internal static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }
}
