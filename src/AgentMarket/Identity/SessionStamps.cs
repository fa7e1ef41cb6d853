using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;

namespace AgentMarket.Identity;

/// <summary>
/// Signs out sign-in cookies issued before their user's password changed: each cookie carries the user's security
/// stamp from when it was issued, and a request whose stamp is no longer the user's (or whose user is gone) is treated
/// as signed out and its cookie removed. Stamps are cached for <see cref="CacheFor"/>, so a cookie request costs no
/// query; this process forgets a user's entry when it changes their password, other replicas within that time.
/// </summary>
public sealed class SessionStamps(IServiceScopeFactory scopes, IMemoryCache cache)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    public async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        if (!Guid.TryParse(principal?.FindFirst(AppClaims.UserId)?.Value, out var userId)
            || !Guid.TryParse(principal.FindFirst(AppClaims.SecurityStamp)?.Value, out var stamp)
            || await CurrentAsync(userId, context.HttpContext.RequestAborted) != stamp)
        {
            context.HttpContext.Features.Set(new CredentialRefused("Your session ended because your password was changed or your account was removed. Sign in again."));
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(AuthSchemes.Cookie);
        }
    }

    public void Forget(Guid userId) => cache.Remove(Key(userId));

    async Task<Guid?> CurrentAsync(Guid userId, CancellationToken ct)
    {
        if (cache.TryGetValue(Key(userId), out Guid? stamp))
        {
            return stamp;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        stamp = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => (Guid?)u.SecurityStamp).FirstOrDefaultAsync(ct);
        cache.Set(Key(userId), stamp, CacheFor);
        return stamp;
    }

    static string Key(Guid userId) => $"security-stamp:{userId:N}";
}
