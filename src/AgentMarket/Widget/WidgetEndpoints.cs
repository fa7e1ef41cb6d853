using System.ComponentModel.DataAnnotations;
using System.Globalization;
using AgentMarket.Flows.Values;
using AgentMarket.Gateway;
using AgentMarket.Identity;
using AgentMarket.Keys;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Widget;

public sealed record OpenWidgetSessionRequest(
    [property: MaxLength(200)] string? Key,
    [property: MaxLength(64)] string? VisitorId,
    [property: MaxLength(64)] string? ConversationId);

/// <summary>What the widget needs to draw itself: the buyer's branding and widget settings for this agent.</summary>
public sealed record WidgetAppearance(string Title, string? WelcomeMessage, string? BrandColor, string? LogoUrl, WidgetPosition Position, WidgetTheme Theme);

public sealed record WidgetSessionResponse(string Token, DateTime ExpiresAt, string VisitorId, string ConversationId, WidgetAppearance Agent);

public sealed record WidgetMessageRequest([property: MaxLength(WidgetEndpoints.MaxInputLength)] string? Input);

/// <summary>One earlier message of the visitor's conversation: <c>user</c> or <c>agent</c>, and its text.</summary>
public sealed record WidgetHistoryMessage(string Sender, string Text, DateTime CreatedAt);

public sealed record WidgetHistoryResponse(IReadOnlyList<WidgetHistoryMessage> Messages);

/// <summary>A widget answer as the visitor sees it: the run and its text, never the buyer's balance or charges.</summary>
public sealed record WidgetMessageResponse(Guid RunId, string? Output);

/// <summary>
/// The widget's API (SPEC §8): <c>POST /api/widget/sessions</c> trades a publishable key, from one of its allowed
/// origins, for a short-lived session token; <c>POST /api/widget/messages</c> runs the key's agent through the run
/// gateway (door <c>widget</c>) as JSON or server-sent events. Both are anonymous routes: the browser holds no secret
/// and sends no cookie, and CORS is answered by hand, per key (<see cref="WidgetCors"/>).
/// </summary>
static class WidgetEndpoints
{
    public const string Door = "widget";
    public const int MaxInputLength = 4_000;

    /// <summary>How many of a conversation's latest messages a reloaded widget redraws.</summary>
    const int HistoryLength = 100;

    public static void MapWidgetApi(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/widget").WithTags("Widget").AllowAnyone();
        api.MapPost("/sessions", OpenSessionAsync).WithName("OpenWidgetSession").WithRequestBodyLimit(16 * 1024);
        api.MapPost("/messages", SendAsync).WithName("SendWidgetMessage").WithRequestBodyLimit(32 * 1024);
        api.MapMethods("/sessions", [HttpMethods.Options], (WidgetCors cors, HttpContext http) => cors.PreflightAsync(http)).ExcludeFromDescription();
        api.MapGet("/conversations/{conversationId}/messages", HistoryAsync).WithName("GetWidgetHistory");
        api.MapMethods("/messages", [HttpMethods.Options], (WidgetCors cors, HttpContext http) => cors.PreflightAsync(http)).ExcludeFromDescription();
        api.MapMethods("/conversations/{conversationId}/messages", [HttpMethods.Options], (WidgetCors cors, HttpContext http) => cors.PreflightAsync(http))
            .ExcludeFromDescription();
    }

    static async Task<IResult> OpenSessionAsync(OpenWidgetSessionRequest request, HttpContext http, ApiKeyDirectory keys, WidgetTokens tokens,
        WidgetLimits limits, AppDbContext db, CurrentTenant tenant, CancellationToken ct)
    {
        WidgetCors.VaryByOrigin(http.Response);
        if (WidgetCors.RequestOrigin(http.Request) is not { } origin)
        {
            return WidgetCors.OriginNotAllowed();
        }
        if (request.Key is not { } presented || !SecretToken.IsWellFormed(presented, ApiKeyAuthenticationHandler.PublishablePrefix)
            || await keys.FindAsync(presented, ct) is not { Kind: ApiKeyKind.Publishable } key)
        {
            return KeyInvalid();
        }
        if (!Allows(key, origin, http.Request))
        {
            return WidgetCors.OriginNotAllowed();
        }
        WidgetCors.Allow(http.Response, origin);
        if (limits.RefuseSession(key.KeyId, http.Connection.RemoteIpAddress) is { } wait)
        {
            return RateLimited(http, wait, "Too many chat sessions from this address; retry shortly.");
        }
        tenant.Set(key.OrganizationId, MembershipRole.Member);
        var appearance = await db.CustomerAgentConfigs.AsNoTracking().Where(c => c.Id == key.ConfigId && c.State != SubscriptionState.Terminated)
            .Select(c => new WidgetAppearance(c.Name, c.WelcomeMessage, c.BrandColor, c.LogoUrl, c.WidgetPosition, c.WidgetTheme))
            .FirstOrDefaultAsync(ct);
        if (appearance is null)
        {
            return KeyInvalid();
        }
        var visitor = WidgetTokens.IsId(request.VisitorId) ? request.VisitorId! : WidgetTokens.NewId();
        var conversation = WidgetTokens.IsId(request.ConversationId) ? request.ConversationId! : WidgetTokens.NewId();
        var (token, session) = tokens.Issue(key.KeyId, origin, visitor, conversation);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WidgetSessionResponse(token, session.ExpiresUtc, visitor, conversation, appearance));
    }

    static async Task<IResult> SendAsync(WidgetMessageRequest request, HttpContext http, ApiKeyDirectory keys, WidgetTokens tokens,
        WidgetLimits limits, WidgetCors cors, CurrentTenant tenant, RunGateway gateway, CancellationToken ct)
    {
        var (session, key, refusal) = await AuthorizeAsync(http, keys, tokens, cors, ct);
        if (refusal is not null)
        {
            return refusal;
        }
        if (string.IsNullOrWhiteSpace(request.Input))
        {
            return ApiProblem.Invalid("input", "Type a message.");
        }
        if (limits.RefuseMessage(key!.KeyId, session!.VisitorId) is { } wait)
        {
            return RateLimited(http, wait, "You are sending messages too fast; wait a moment.");
        }
        tenant.Set(key.OrganizationId, MembershipRole.Member);
        var run = new GatewayRequest(key.ConfigId, request.Input, session.GatewaySessionId, null, Door) { Key = key };
        return await GatewayEndpoints.RespondAsync(http, onEvent => RunForVisitorAsync(gateway, run, onEvent, ct), r => new WidgetMessageResponse(r.RunId, r.Output));
    }

    /// <summary>
    /// The earlier messages of the token's own conversation, oldest first, so a reloaded page redraws them. The route
    /// names the conversation only to be checked against the token: any other id, whoever's it is, is not found.
    /// </summary>
    static async Task<IResult> HistoryAsync(string conversationId, HttpContext http, ApiKeyDirectory keys, WidgetTokens tokens, WidgetCors cors,
        CurrentTenant tenant, AppDbContext db, CancellationToken ct)
    {
        var (session, key, refusal) = await AuthorizeAsync(http, keys, tokens, cors, ct);
        if (refusal is not null)
        {
            return refusal;
        }
        if (!string.Equals(conversationId, session!.ConversationId, StringComparison.Ordinal))
        {
            return ApiProblem.NotFound("conversation");
        }
        tenant.Set(key!.OrganizationId, MembershipRole.Member);
        var gatewaySession = session.GatewaySessionId;
        var recent = await db.SessionMessages.AsNoTracking()
            .Where(m => m.PartitionId == key.ConfigId && m.SessionId == gatewaySession && !m.Error && m.Category != "error" && m.Text != "")
            .OrderByDescending(m => m.CreatedUtc).ThenByDescending(m => m.Id).Take(HistoryLength)
            .Select(m => new WidgetHistoryMessage(m.Sender == MessageSenders.User ? "user" : "agent", m.Text, m.CreatedUtc))
            .ToListAsync(ct);
        recent.Reverse();
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WidgetHistoryResponse(recent));
    }

    /// <summary>
    /// The checks every request that carries a session token passes, in order: the token is ours, it comes from the page
    /// origin it was issued to, it has not expired, its key is still a live publishable key that allows that origin.
    /// CORS is granted as soon as the origin is known to be the token's, so the widget can read the refusals it acts on.
    /// </summary>
    static async Task<(WidgetSession? Session, KeyGrant? Key, IResult? Refusal)> AuthorizeAsync(HttpContext http, ApiKeyDirectory keys, WidgetTokens tokens,
        WidgetCors cors, CancellationToken ct)
    {
        WidgetCors.VaryByOrigin(http.Response);
        var origin = WidgetCors.RequestOrigin(http.Request);
        var session = tokens.Read(http.Request.Headers[WidgetCors.SessionHeader].ToString());
        // A token is bound to the page origin that opened it; from anywhere else it is worth nothing.
        if (session is not null && origin is not null && origin != session.Origin)
        {
            return (null, null, WidgetCors.OriginNotAllowed());
        }
        if (session is not null)
        {
            WidgetCors.Allow(http.Response, session.Origin);
        }
        if (origin is null)
        {
            return (null, null, session is null ? Unauthorized(WidgetProblemCodes.SessionInvalid, "Not a widget session token; open a new session.") : WidgetCors.OriginNotAllowed());
        }
        if (session is null)
        {
            // A token no longer readable (say, after the Data Protection keys changed): a widget page may read the refusal
            // and open a new session; the answer says nothing else.
            if (await cors.IsWidgetOriginAsync(origin, ct))
            {
                WidgetCors.Allow(http.Response, origin);
            }
            return (null, null, Unauthorized(WidgetProblemCodes.SessionInvalid, "Not a widget session token; open a new session."));
        }
        if (tokens.HasExpired(session))
        {
            return (null, null, Unauthorized(WidgetProblemCodes.SessionExpired, "The widget session ran out; open a new session."));
        }
        // Revoking the key, or taking the origin off its list, ends its sessions at once (within the key cache's second elsewhere).
        if (await keys.FindByIdAsync(session.KeyId, ct) is not { Kind: ApiKeyKind.Publishable } key)
        {
            return (null, null, KeyInvalid());
        }
        if (!Allows(key, origin, http.Request))
        {
            return (null, null, WidgetCors.OriginNotAllowed());
        }
        return (session, key, null);
    }

    /// <summary>
    /// The gateway's answer, minus what a visitor must not learn about the buyer: a credit refusal keeps its status and
    /// code (the widget says the assistant is unavailable) but not its detail, which names balances and prices.
    /// </summary>
    static async Task<(GatewayResult? Result, GatewayFailure? Failure)> RunForVisitorAsync(RunGateway gateway, GatewayRequest run,
        Func<Flows.Execution.RunEvent, ValueTask>? onEvent, CancellationToken ct)
    {
        var (result, failure) = await gateway.RunAsync(run, onEvent, ct);
        if (failure is { Status: StatusCodes.Status402PaymentRequired })
        {
            failure = new GatewayFailure(failure.Status, failure.Code, "This assistant cannot answer right now; please try again later.") { RunId = failure.RunId };
        }
        return (result, failure);
    }

    /// <summary>The key lists the page's origin; the marketplace's own pages (the Widget tab's preview) are always allowed.</summary>
    static bool Allows(KeyGrant key, string origin, HttpRequest request) =>
        key.AllowedOrigins.Contains(origin, StringComparer.Ordinal)
        || string.Equals(origin, AgentKeys.NormalizeOrigin($"{request.Scheme}://{request.Host}"), StringComparison.Ordinal);

    static ProblemHttpResult KeyInvalid() => Unauthorized(WidgetProblemCodes.KeyInvalid, "This widget's key is not valid (unknown, revoked or expired); check the embed code.");

    static ProblemHttpResult Unauthorized(string code, string detail) => ApiProblem.Create(StatusCodes.Status401Unauthorized, code, detail);

    static ProblemHttpResult RateLimited(HttpContext http, TimeSpan wait, string detail)
    {
        http.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited, detail);
    }
}
