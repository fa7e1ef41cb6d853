using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentMarket.Identity;

public sealed record SessionResponse(Guid Uuid, string Device, string? IpAddress, DateTime Created, DateTime LastSeen, bool Current);

/// <summary>The signed-in user's sign-in sessions (ADR-132): list them, end one, or end all but the caller's.</summary>
static class SessionEndpoints
{
    public static void MapSessions(this RouteGroupBuilder auth)
    {
        auth.MapGet("/sessions", ListSessionsAsync).WithName("ListSessions").RequireUser().DisableRateLimiting();
        auth.MapDelete("/sessions/{uuid:guid}", RevokeSessionAsync).WithName("RevokeSession").RequireUser().DisableRateLimiting();
        auth.MapPost("/sessions/revoke-others", RevokeOtherSessionsAsync).WithName("RevokeOtherSessions").RequireUser().DisableRateLimiting();
    }

    /// <summary>Sessions that can still be used, newest first; <c>current</c> marks the caller's own (none for a token).</summary>
    static async Task<Ok<List<SessionResponse>>> ListSessionsAsync(UserSessions sessions, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        var listed = await sessions.ListAsync(tenant.UserId!.Value, UserSessions.CurrentId(http.User), ct);
        return TypedResults.Ok(listed.Select(s => new SessionResponse(s.Id, s.Device, s.IpAddress, s.CreatedUtc, s.LastSeenUtc, s.Current)).ToList());
    }

    /// <summary>Ends one of the caller's sessions (204 again for one already ended); ending the caller's own also removes its cookie.</summary>
    static async Task<IResult> RevokeSessionAsync(Guid uuid, UserSessions sessions, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        if (await sessions.EndOneAsync(tenant.UserId!.Value, uuid, ct) is null)
        {
            return ApiProblem.NotFound("session");
        }
        if (uuid == UserSessions.CurrentId(http.User))
        {
            await http.SignOutAsync(AuthSchemes.Cookie);
        }
        return TypedResults.NoContent();
    }

    /// <summary>Ends every session of the caller but the one making the request (all of them, when a token makes it).</summary>
    static async Task<NoContent> RevokeOtherSessionsAsync(UserSessions sessions, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        await sessions.EndOthersAsync(tenant.UserId!.Value, UserSessions.CurrentId(http.User), ct);
        return TypedResults.NoContent();
    }
}
