using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Identity;
using AgentMarket.Keys;
using AgentMarket.Platform;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace AgentMarket.Gateway;

public sealed record RunAgentRequest([property: MaxLength(100_000)] string? Input, [property: MaxLength(200)] string? SessionId);
/// <summary>A finished run; <see cref="UsageSource"/> says whether its tokens are the endpoint's own, bounded or estimated (ADR-172).</summary>
public sealed record RunAgentResponse(Guid RunId, string? Output, string SessionId, long CreditsCharged, long Balance, UsageSource? UsageSource);
public sealed record TryAgentResponse(Guid RunId, string? Output, string SessionId, long CreditsCharged, int? TrialRunsLeft);

/// <summary>
/// The run API (SPEC §8): <c>POST /api/agents/{uuid}/run/</c> for keys and signed-in members, and the playground
/// <c>POST /api/marketplace/agents/{id or slug}/try/</c>, each as JSON or server-sent events.
/// </summary>
static class GatewayEndpoints
{
    public const string OverheadHeader = "X-Gateway-Overhead-Ms";

    /// <summary>The cookie that counts playground runs of people who have not signed in (set on first use).</summary>
    public const string VisitorCookie = "am_visitor";

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void MapGateway(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/agents/{uuid:guid}/run", RunAsync).WithTags("Gateway").WithName("RunAgent").RequireOrganizationOrAgentKey()
            .WithRequestBodyLimit(512 * 1024);
        routes.MapPost("/api/marketplace/agents/{idOrSlug}/try", TryAsync).WithTags("Gateway").WithName("TryAgent").AllowAnyone()
            .WithRequestBodyLimit(64 * 1024);
    }

    static async Task<IResult> RunAsync(Guid uuid, RunAgentRequest request, [FromHeader(Name = "Idempotency-Key")] string? idempotencyKey,
        RunGateway gateway, HttpContext http, CancellationToken ct)
    {
        if (idempotencyKey is { Length: > 200 })
        {
            return ApiProblem.Invalid("Idempotency-Key", "Use at most 200 characters.");
        }
        if (idempotencyKey is not null && string.IsNullOrWhiteSpace(idempotencyKey))
        {
            // Trimmed, a blank key would be the empty key, shared by every blank request of the subscription.
            return ApiProblem.Invalid("Idempotency-Key", "Give a key of 1 to 200 characters, or leave the header out.");
        }
        if (idempotencyKey?.Trim().StartsWith(ExternalUsage.EventKeyPrefix, StringComparison.Ordinal) == true)
        {
            return ApiProblem.Invalid("Idempotency-Key", $"Keys starting with \"{ExternalUsage.EventKeyPrefix}\" are reserved for reported usage; choose another.");
        }
        if (BlankInput(request) is { } blank)
        {
            return blank;
        }
        var gatewayRequest = new GatewayRequest(uuid, request.Input, request.SessionId, idempotencyKey, "api") { Key = http.Features.Get<KeyGrant>() };
        return await RespondAsync(http, onEvent => gateway.RunAsync(gatewayRequest, onEvent, ct), ToResponse);
    }

    /// <summary>The agent page's playground: visitors within a daily allowance, signed-in members paying per run.</summary>
    static async Task<IResult> TryAsync(string idOrSlug, RunAgentRequest request, RunGateway gateway, HttpContext http, CancellationToken ct)
    {
        if (http.User.Identity?.IsAuthenticated == true && !http.User.IsAgentKey())
        {
            await OrganizationScope.ResolveAsync(http, null, ct);
        }
        if (BlankInput(request) is { } blank)
        {
            return blank;
        }
        var visitor = Visitor(http);
        return await RespondAsync(http, onEvent => gateway.TryAsync(idOrSlug, request.Input, request.SessionId, visitor, AuthRequestLimit.Address(http), onEvent, ct),
            result => new TryAgentResponse(result.RunId, result.Output, result.SessionId, result.CreditsCharged, result.TrialRunsLeft));
    }

    /// <summary>A run is a message to the agent: without one the model would answer (and be paid for) nothing.</summary>
    static ProblemHttpResult? BlankInput(RunAgentRequest request) =>
        string.IsNullOrWhiteSpace(request.Input) ? ApiProblem.Invalid("input", "Give the message to send to the agent.") : null;

    /// <summary>
    /// JSON, or server-sent events when the client accepts <c>text/event-stream</c>: token frames as the model streams,
    /// then one "end" frame with the result (or "error"). Headers go out with the first frame, so a refusal before the
    /// run (402, 429…) is still a plain problem response.
    /// </summary>
    internal static async Task<IResult> RespondAsync<T>(HttpContext http, Func<Func<RunEvent, ValueTask>?, Task<(GatewayResult? Result, GatewayFailure? Failure)>> run,
        Func<GatewayResult, T> shape)
    {
        var started = Stopwatch.GetTimestamp();
        if (!http.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            var (result, failure) = await run(null);
            if (failure is not null)
            {
                return ToProblem(failure, http);
            }
            http.Response.Headers[OverheadHeader] = Overhead(started, result!.EngineTime);
            return TypedResults.Ok(shape(result));
        }
        var sse = new ServerSentEvents(http);
        var (streamed, streamFailure) = await run(async e =>
        {
            switch (e)
            {
                // As in Langflow, a streamed answer starts as a partial message holding the first chunk; tokens follow.
                case MessageAdded { Message.Properties.State: "partial" } added when added.Message.Text.Length > 0:
                    await sse.WriteAsync("token", new { chunk = added.Message.Text, message_id = added.Message.Id });
                    break;
                case TokenEmitted token:
                    await sse.WriteAsync("token", new { chunk = token.Chunk, message_id = token.MessageId });
                    break;
            }
        });
        if (!sse.Started)
        {
            if (streamFailure is not null)
            {
                return ToProblem(streamFailure, http);
            }
            http.Response.Headers[OverheadHeader] = Overhead(started, streamed!.EngineTime);
        }
        if (streamFailure is not null)
        {
            await sse.WriteAsync("error", new
            {
                code = streamFailure.Code,
                detail = streamFailure.Message,
                status = streamFailure.Status,
                run_id = streamFailure.RunId,
                retry_after = streamFailure.RetryAfter is { } wait ? RetryAfter.Seconds(wait) : (int?)null,
            });
        }
        else
        {
            await sse.WriteAsync("end", shape(streamed!)!);
        }
        return TypedResults.Empty;
    }

    /// <summary>
    /// The visitor's <see cref="VisitorCookie"/>, set now if it is missing or malformed. A client that drops it is a new
    /// visitor each time, which is why the playground's allowance also counts the client's address (ADR-156).
    /// </summary>
    internal static string Visitor(HttpContext http)
    {
        if (ExistingVisitor(http) is { } existing)
        {
            return existing;
        }
        var visitor = Guid.NewGuid().ToString("N");
        http.Response.Cookies.Append(VisitorCookie, visitor, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            Secure = http.Request.IsHttps,
            MaxAge = TimeSpan.FromDays(365),
            IsEssential = true,
        });
        return visitor;
    }

    /// <summary>The visitor cookie of a browser that has used the playground before, if well formed.</summary>
    internal static string? ExistingVisitor(HttpContext http) =>
        http.Request.Cookies[VisitorCookie] is { Length: 32 } existing && existing.All(char.IsAsciiHexDigit) ? existing : null;

    static string Overhead(long started, TimeSpan engine) =>
        Math.Max(0, (Stopwatch.GetElapsedTime(started) - engine).TotalMilliseconds).ToString("0.###", CultureInfo.InvariantCulture);

    internal static RunAgentResponse ToResponse(GatewayResult r) => new(r.RunId, r.Output, r.SessionId, r.CreditsCharged, r.Balance, r.UsageSource);

    internal static IResult ToProblem(GatewayFailure failure, HttpContext http)
    {
        SetRetryAfter(http, failure);
        return ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.Extensions);
    }

    internal static void SetRetryAfter(HttpContext http, GatewayFailure failure)
    {
        if (failure.RetryAfter is { } wait)
        {
            RetryAfter.Set(http.Response, wait);
        }
    }

    /// <summary>Writes <c>text/event-stream</c> frames, sending the headers with the first one.</summary>
    sealed class ServerSentEvents(HttpContext http)
    {
        public bool Started { get; private set; }

        public async Task WriteAsync(string name, object data)
        {
            if (!Started)
            {
                Started = true;
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.Headers.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                http.Response.Headers["X-Accel-Buffering"] = "no"; // tells nginx-style proxies not to buffer the stream
            }
            var payload = JsonSerializer.Serialize(data, Json);
            await http.Response.WriteAsync($"event: {name}\ndata: {payload}\n\n", http.RequestAborted);
            await http.Response.Body.FlushAsync(http.RequestAborted);
        }
    }
}
