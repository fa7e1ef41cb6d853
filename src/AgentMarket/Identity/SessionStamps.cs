using System.Security.Claims;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace AgentMarket.Identity;

/// <summary>
/// Checks every sign-in cookie against the server's state, and treats a refused one as signed out (its cookie removed):
/// <list type="bullet">
/// <item>its security stamp must still be its user's (a password change gives a new one; a removed user has none);</item>
/// <item>its operator claim, if it has one, must still be the user's (operator access can be taken away);</item>
/// <item>its session (<see cref="UserSession"/>, ADR-132) must not have ended. A cookie without one was issued before
/// sessions were tracked, and is refused too.</item>
/// </list>
/// Stamps and session states are cached for <see cref="CacheFor"/> of the app's clock, so a cookie request normally costs
/// no query; this process forgets an entry when it changes it (a password change, a sign-out), other replicas notice
/// within that time. A session's last-seen time is written when its state is read again and is older than
/// <see cref="LastSeenPrecision"/>, never on every request.
/// </summary>
public sealed class SessionStamps(IServiceScopeFactory scopes, IMemoryCache cache, TimeProvider clock)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan LastSeenPrecision = TimeSpan.FromMinutes(5);

    public const string PasswordChangedMessage = "Your session ended because your password was changed or your account was removed. Sign in again.";
    public const string SignedOutMessage = "This session was signed out, here or from another of your sessions. Sign in again.";
    public const string UntrackedMessage = "Your session has ended. Sign in again.";

    public const string OperatorChangedMessage = "Your session ended because your account is no longer an operator. Sign in again.";

    /// <summary>A value read at <paramref name="ReadUtc"/> of the app's clock (which tests move), not the cache's own.</summary>
    sealed record Cached<T>(T Value, DateTime ReadUtc);

    /// <summary>What a cookie issued for the user must still carry.</summary>
    sealed record UserStamp(Guid SecurityStamp, bool IsOperator);

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        if (await RefusalAsync(context.Principal, context.HttpContext.RequestAborted) is { } refusal)
        {
            context.HttpContext.Features.Set(new CredentialRefused(refusal));
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AuthSchemes.Cookie);
        }
    }

    /// <summary>Why the cookie no longer signs in, or null when it does.</summary>
    async Task<string?> RefusalAsync(ClaimsPrincipal? principal, CancellationToken ct)
    {
        if (!Guid.TryParse(principal?.FindFirst(AppClaims.UserId)?.Value, out var userId)
            || !Guid.TryParse(principal.FindFirst(AppClaims.SecurityStamp)?.Value, out var stamp)
            || await StampAsync(userId, ct) is not { } current
            || current.SecurityStamp != stamp)
        {
            return PasswordChangedMessage;
        }
        // The claim is fixed when the cookie is issued, and pages and routes trust it: taken away, it must end the cookie.
        // (A cookie issued before a grant only lacks it until the next sign-in.)
        if (principal.HasClaim(AppClaims.Operator, "true") && !current.IsOperator)
        {
            return OperatorChangedMessage;
        }
        if (UserSessions.CurrentId(principal) is not { } sessionId)
        {
            return UntrackedMessage;
        }
        return await IsOpenAsync(sessionId, userId, ct) ? null : SignedOutMessage;
    }

    public void Forget(Guid userId) => cache.Remove(StampKey(userId));

    public void ForgetSession(Guid sessionId) => cache.Remove(SessionKey(sessionId));

    Task<UserStamp?> StampAsync(Guid userId, CancellationToken ct) =>
        CachedAsync(StampKey(userId), db => db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new UserStamp(u.SecurityStamp, u.IsOperator)).FirstOrDefaultAsync(ct));

    Task<bool> IsOpenAsync(Guid sessionId, Guid userId, CancellationToken ct) =>
        CachedAsync(SessionKey(sessionId), async db =>
        {
            var session = await db.UserSessions.AsNoTracking().Where(s => s.Id == sessionId && s.UserId == userId)
                .Select(s => new { s.EndedUtc, s.LastSeenUtc }).FirstOrDefaultAsync(ct);
            if (session is not { EndedUtc: null })
            {
                return false;
            }
            var now = clock.GetUtcNow().UtcDateTime;
            var stale = now - LastSeenPrecision;
            if (session.LastSeenUtc < stale)
            {
                // Conditional, so replicas reading it at once write it once.
                await db.UserSessions.Where(s => s.Id == sessionId && s.LastSeenUtc < stale)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenUtc, now), ct);
            }
            return true;
        });

    async Task<T> CachedAsync<T>(string key, Func<AppDbContext, Task<T>> read)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (cache.TryGetValue(key, out Cached<T>? cached) && now - cached!.ReadUtc < CacheFor)
        {
            return cached.Value;
        }
        await using var scope = scopes.CreateAsyncScope();
        var value = await read(scope.ServiceProvider.GetRequiredService<AppDbContext>());
        cache.Set(key, new Cached<T>(value, now), CacheFor);
        return value;
    }

    static string StampKey(Guid userId) => $"security-stamp:{userId:N}";

    static string SessionKey(Guid sessionId) => $"user-session:{sessionId:N}";
}
