using System.Security.Claims;
using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Identity;

/// <summary>
/// Sign-in sessions the server can end (ADR-132). Every cookie sign-in starts a <see cref="UserSession"/> whose id the
/// cookie carries, and <see cref="SessionStamps"/> refuses a cookie whose session has ended, so signing out (or being
/// signed out from another session) also ends every copy of the cookie. Shared by the API and the pages.
/// </summary>
public sealed class UserSessions(AppDbContext db, SessionStamps stamps, TimeProvider clock, AuditLog audit)
{
    /// <summary>How long an ended session (or one whose cookie expired unused) stays listed before it is deleted.</summary>
    public static readonly TimeSpan KeepEndedFor = TimeSpan.FromDays(30);

    public sealed record Listed(Guid Id, string Device, string? IpAddress, DateTime CreatedUtc, DateTime LastSeenUtc, bool Current);

    /// <summary>The session the request's sign-in cookie belongs to; none for a token or key.</summary>
    public static Guid? CurrentId(ClaimsPrincipal user) => Guid.TryParse(user.FindFirst(AppClaims.Session)?.Value, out var id) ? id : null;

    /// <summary>Starts a session for the user in this browser and sets its sign-in cookie.</summary>
    public async Task SignInAsync(HttpContext http, User user)
    {
        var sessionId = await StartAsync(http, user.Id, http.RequestAborted);
        await SetCookieAsync(http, user, sessionId);
    }

    /// <summary>
    /// Starts a session and returns its id, for a sign-in that sets the cookie itself (single sign-on). The user's own
    /// long-over sessions are deleted as a new one starts, so rows stay bounded without a sweeping job.
    /// </summary>
    public async Task<Guid> StartAsync(HttpContext http, Guid userId, CancellationToken ct)
    {
        if (CurrentId(http.User) is { } replaced && Guid.TryParse(http.User.FindFirst(AppClaims.UserId)?.Value, out var replacedUser))
        {
            // The browser's earlier sign-in, whose cookie this one replaces, ends: a copy of that cookie must not live on.
            await EndAsync(replacedUser, replaced, ct);
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var before = now - KeepEndedFor;
        await db.UserSessions.Where(s => s.UserId == userId && (s.EndedUtc < before || s.LastSeenUtc < before - AuthSetup.CookieLifetime)).ExecuteDeleteAsync(ct);
        var address = http.Connection.RemoteIpAddress;
        var session = new UserSession
        {
            UserId = userId,
            CreatedUtc = now,
            LastSeenUtc = now,
            Device = DeviceDescription.From(http.Request.Headers.UserAgent),
            IpAddress = (address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address)?.ToString(),
        };
        db.UserSessions.Add(session);
        await db.SaveChangesAsync(ct);
        return session.Id;
    }

    /// <summary>Gives this request's session a cookie with the user's new security stamp (after a password change).</summary>
    public async Task RenewAsync(HttpContext http, User user) =>
        await SetCookieAsync(http, user, CurrentId(http.User) ?? await StartAsync(http, user.Id, http.RequestAborted));

    /// <summary>Ends this request's session, if it has one, and removes its cookie.</summary>
    public async Task SignOutAsync(HttpContext http)
    {
        if (CurrentId(http.User) is { } sessionId && Guid.TryParse(http.User.FindFirst(AppClaims.UserId)?.Value, out var userId))
        {
            await EndAsync(userId, sessionId, http.RequestAborted);
        }
        await http.SignOutAsync(AuthSchemes.Cookie);
    }

    /// <summary>The user's sessions that can still be used, newest first.</summary>
    public Task<List<Listed>> ListAsync(Guid userId, Guid? current, CancellationToken ct)
    {
        var expired = clock.GetUtcNow().UtcDateTime - AuthSetup.CookieLifetime;
        return db.UserSessions.AsNoTracking()
            .Where(s => s.UserId == userId && s.EndedUtc == null && s.LastSeenUtc > expired)
            .OrderByDescending(s => s.CreatedUtc)
            .Select(s => new Listed(s.Id, s.Device, s.IpAddress, s.CreatedUtc, s.LastSeenUtc, s.Id == current))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Ends one of the user's sessions from another (audited); null when the user has no such session, false when it
    /// had already ended.
    /// </summary>
    public async Task<bool?> EndOneAsync(Guid userId, Guid sessionId, CancellationToken ct)
    {
        if (!await db.UserSessions.AnyAsync(s => s.Id == sessionId && s.UserId == userId, ct))
        {
            return null;
        }
        if (!await EndAsync(userId, sessionId, ct))
        {
            return false;
        }
        await audit.RecordAsync(AuditActions.SessionRevoked, null, "user_session", sessionId, ct: ct);
        return true;
    }

    /// <summary>Ends every session of the user but <paramref name="keep"/> (audited) and returns how many were still open.</summary>
    public async Task<int> EndOthersAsync(Guid userId, Guid? keep, CancellationToken ct)
    {
        var ended = await EndAllAsync(userId, keep, ct);
        if (ended > 0)
        {
            await audit.RecordAsync(AuditActions.OtherSessionsRevoked, null, "user", userId, after: new { ended }, ct: ct);
        }
        return ended;
    }

    /// <summary>
    /// Ends every session of the user but <paramref name="keep"/>, in the caller's transaction if it has one (a password
    /// change), and returns how many were still open.
    /// </summary>
    public async Task<int> EndAllAsync(Guid userId, Guid? keep, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var open = await db.UserSessions.Where(s => s.UserId == userId && s.EndedUtc == null && (keep == null || s.Id != keep)).Select(s => s.Id).ToListAsync(ct);
        if (open.Count == 0)
        {
            return 0;
        }
        var ended = await db.UserSessions.Where(s => open.Contains(s.Id) && s.EndedUtc == null).ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedUtc, now), ct);
        open.ForEach(stamps.ForgetSession);
        return ended;
    }

    public sealed record EndedAccess(int SessionsEnded, int TokensRevoked);

    /// <summary>
    /// An operator's "end this user's access" (ADR-157): every session ended and every personal access token revoked,
    /// audited with how many; null when there is no such user. Tokens stop at once (they are looked up on every
    /// request), cookies at once on this node and within <see cref="SessionStamps.CacheFor"/> on other replicas. Each
    /// step commits on its own, so a session's cached state is forgotten only once its end is visible to every reader
    /// (inside one transaction a request in between could cache it as open again); repeating the action finishes one
    /// that stopped half-way. The password and security stamp stay (a new stamp would tell the user their password
    /// changed): whoever knows the password can sign in again.
    /// </summary>
    public async Task<EndedAccess?> EndEveryAccessAsync(Guid userId, CancellationToken ct)
    {
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct))
        {
            return null;
        }
        var sessions = await EndAllAsync(userId, keep: null, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        var tokens = await db.PersonalAccessTokens.Where(t => t.UserId == userId && t.RevokedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedUtc, now), ct);
        await audit.RecordAsync(AuditActions.UserAccessEnded, null, "user", userId, after: new { sessions, personal_tokens = tokens }, ct: ct);
        return new EndedAccess(sessions, tokens);
    }

    async Task<bool> EndAsync(Guid userId, Guid sessionId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var ended = await db.UserSessions.Where(s => s.Id == sessionId && s.UserId == userId && s.EndedUtc == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedUtc, now), ct) > 0;
        stamps.ForgetSession(sessionId);
        return ended;
    }

    static Task SetCookieAsync(HttpContext http, User user, Guid sessionId) =>
        http.SignInAsync(AuthSchemes.Cookie, Accounts.PrincipalFor(user, AuthSchemes.Cookie, sessionId), new AuthenticationProperties { IsPersistent = true });
}
