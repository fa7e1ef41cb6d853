using System.ComponentModel.DataAnnotations;
using AgentMarket.Catalog;
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
    [property: MaxLength(200)] string? Agent,
    [property: MaxLength(64)] string? VisitorId,
    [property: MaxLength(64)] string? ConversationId);

/// <summary>What the widget needs to draw itself: the buyer's branding and widget settings for this agent.</summary>
public sealed record WidgetAppearance(string Title, string? WelcomeMessage, string? BrandColor, string? LogoUrl, WidgetPosition Position, WidgetTheme Theme);

/// <summary>A new session. <c>VisitorId</c> is null for the playground, whose visitor is the page's own cookie.</summary>
public sealed record WidgetSessionResponse(string Token, DateTime ExpiresAt, string? VisitorId, string ConversationId, WidgetAppearance Agent);

public sealed record WidgetMessageRequest([property: MaxLength(WidgetEndpoints.MaxInputLength)] string? Input);

/// <summary>One earlier message of the visitor's conversation: <c>user</c> or <c>agent</c>, and its text.</summary>
public sealed record WidgetHistoryMessage(string Sender, string Text, DateTime CreatedAt);

public sealed record WidgetHistoryResponse(IReadOnlyList<WidgetHistoryMessage> Messages);

/// <summary>A widget answer as the visitor sees it: the run and its text, never the buyer's balance or charges.</summary>
public sealed record WidgetMessageResponse(Guid RunId, string? Output);

/// <summary>A playground answer: the person chatting is the one paying, so it says what the run cost, or the free tries left.</summary>
public sealed record PlaygroundMessageResponse(Guid RunId, string? Output, long CreditsCharged, int? TrialRunsLeft);

/// <summary>
/// The widget's API (SPEC §8): <c>POST /api/widget/sessions</c> trades a publishable key, from one of its allowed
/// origins, for a short-lived session token; <c>POST /api/widget/messages</c> runs the key's agent through the run
/// gateway (door <c>widget</c>) as JSON or server-sent events; <c>GET /api/widget/conversations/{id}/messages</c> gives
/// a reloaded page the token's conversation back. All are anonymous routes: the browser holds no secret and sends no
/// cookie, and CORS is answered by hand, per key (<see cref="WidgetCors"/>). The agent page's playground uses the same
/// routes in a same-origin mode without a key, where the page's cookies say who runs (ADR-070).
/// </summary>
static class WidgetEndpoints
{
    public const string Door = "widget";
    public const int MaxInputLength = 4_000;

    /// <summary>How many of a conversation's latest messages a reloaded widget redraws.</summary>
    const int HistoryLength = 100;

    public static void MapWidgetApi(this IEndpointRouteBuilder routes)
    {
        // Pages of other sites post here by design; a session token, never a cookie, says who may (the playground's is
        // bound to the marketplace's own origin).
        var api = routes.MapGroup("/api/widget").WithTags("Widget").AllowAnyone().AllowCrossSite();
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
        if (request.Key is null && request.Agent is { } agent)
        {
            return await OpenPlaygroundSessionAsync(agent, origin, http, tokens, limits, db, tenant, ct);
        }
        if (request.Key is not { } presented || !SecretToken.IsWellFormed(presented, ApiKeyAuthenticationHandler.PublishablePrefix)
            || await keys.FindAsync(presented, ct) is not { Kind: ApiKeyKind.Publishable, OrganizationSuspended: false } key)
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

    /// <summary>
    /// The agent page's playground is this widget too, on the marketplace's own pages only (same origin, so no CORS). It
    /// holds no key: who runs is who the page's cookies say, as on the playground's run endpoint — a signed-in member
    /// paying from their organization's credits, or a visitor within the daily free tries counted by the visitor cookie
    /// (<see cref="RunGateway.TryAsync"/>). The token binds that visitor and user to the listing, the marketplace's
    /// origin and a new conversation; nothing secret reaches the page.
    /// </summary>
    static async Task<IResult> OpenPlaygroundSessionAsync(string agent, string origin, HttpContext http, WidgetTokens tokens, WidgetLimits limits,
        AppDbContext db, CurrentTenant tenant, CancellationToken ct)
    {
        if (origin != OwnOrigin(http.Request))
        {
            return WidgetCors.OriginNotAllowed();
        }
        var user = await SignedInUserAsync(http, tenant, ct);
        var organization = tenant.OrganizationId;
        var slug = agent.Trim().ToLowerInvariant(); // slugs are stored lower-case
        var listing = await db.Listings.AsNoTracking().WithSlug(db, slug)
            .Where(l => l.State == ListingState.Active && l.AgentVersionId != null
                && (l.Visibility == ListingVisibility.Public || l.OrganizationId == organization))
            .Select(l => new { l.Id, l.Name })
            .FirstOrDefaultAsync(ct);
        if (listing is null)
        {
            return ApiProblem.NotFound("agent");
        }
        if (limits.RefuseSession(listing.Id, http.Connection.RemoteIpAddress) is { } wait)
        {
            return RateLimited(http, wait, "Too many chat sessions from this address; retry shortly.");
        }
        var (token, session) = tokens.IssuePlayground(listing.Id, user, origin, GatewayEndpoints.Visitor(http), WidgetTokens.NewId());
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new WidgetSessionResponse(token, session.ExpiresUtc, null, session.ConversationId,
            new WidgetAppearance(listing.Name, null, null, null, WidgetPosition.BottomRight, WidgetTheme.Auto)));
    }

    /// <summary>The user the request's cookie signs in, with their organization set as the tenant; null for visitors (and keys).</summary>
    static async Task<Guid?> SignedInUserAsync(HttpContext http, CurrentTenant tenant, CancellationToken ct)
    {
        if (http.User.Identity?.IsAuthenticated != true || http.User.IsAgentKey())
        {
            return null;
        }
        await OrganizationScope.ResolveAsync(http, null, ct);
        return tenant.UserId;
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
        if (session!.IsPlayground)
        {
            // Runs exactly as the playground's run endpoint does, in this conversation: who pays was settled by the cookie.
            if (await SignedInUserAsync(http, tenant, ct) != session.UserId)
            {
                return Unauthorized(WidgetProblemCodes.SessionInvalid, "You signed in or out since this chat opened; open a new session.");
            }
            return await GatewayEndpoints.RespondAsync(http,
                onEvent => gateway.TryAsync(session.ListingId!.Value.ToString(), request.Input, session.ConversationId, session.VisitorId,
                    AuthRequestLimit.Address(http), onEvent, ct),
                r => new PlaygroundMessageResponse(r.RunId, r.Output, r.CreditsCharged, r.TrialRunsLeft));
        }
        if (limits.RefuseMessage(key!.KeyId, session.VisitorId) is { } wait)
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
        // The playground starts a new conversation on every page view, so it has no history to redraw.
        if (session!.IsPlayground || !string.Equals(conversationId, session.ConversationId, StringComparison.Ordinal))
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
        if (session.IsPlayground)
        {
            return origin == OwnOrigin(http.Request) ? (session, null, null) : (null, null, WidgetCors.OriginNotAllowed());
        }
        // Revoking the key, or taking the origin off its list, ends its sessions at once (within the key cache's second elsewhere).
        if (await keys.FindByIdAsync(session.KeyId, ct) is not { Kind: ApiKeyKind.Publishable, OrganizationSuspended: false } key)
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
        key.AllowedOrigins.Contains(origin, StringComparer.Ordinal) || string.Equals(origin, OwnOrigin(request), StringComparison.Ordinal);

    /// <summary>The marketplace's own origin, as this request reached it.</summary>
    static string? OwnOrigin(HttpRequest request) => AgentKeys.NormalizeOrigin($"{request.Scheme}://{request.Host}");

    static ProblemHttpResult KeyInvalid() => Unauthorized(WidgetProblemCodes.KeyInvalid, "This widget's key is not valid (unknown, revoked or expired); check the embed code.");

    static ProblemHttpResult Unauthorized(string code, string detail) => ApiProblem.Create(StatusCodes.Status401Unauthorized, code, detail);

    static ProblemHttpResult RateLimited(HttpContext http, TimeSpan wait, string detail)
    {
        Platform.Api.RetryAfter.Set(http.Response, wait);
        return ApiProblem.Create(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited, detail);
    }
}
