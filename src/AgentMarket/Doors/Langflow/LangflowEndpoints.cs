using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Langflow;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AgentMarket.Doors.Langflow;

/// <summary>
/// Langflow's run API (langflow-format.md §6), so Langflow clients work unchanged: <c>POST /api/v1/run/{id}</c> with
/// Langflow's request body, response body and <c>?stream=true</c> framing, and <c>POST /api/v1/webhook/{id}</c>, which
/// answers 202 and runs in the background. <c>{id}</c> is a subscription's uuid or its agent's name among the caller's
/// subscriptions (the listing slug). Every run goes through the gateway with the caller's key or organization.
/// </summary>
static class LangflowEndpoints
{
    public const string RunDoor = "langflow";
    public const string WebhookDoor = "langflow-webhook";

    /// <summary>Langflow's body of a successful webhook call.</summary>
    static readonly JsonObject WebhookAccepted = new() { ["message"] = "Task started in the background", ["status"] = "in progress" };

    /// <summary>True for the door's paths (<c>/api/v1/run/…</c> and <c>/api/v1/webhook/…</c>).</summary>
    public static bool Serves(PathString path) => path.StartsWithSegments("/api/v1/run") || path.StartsWithSegments("/api/v1/webhook");

    public static void MapLangflowDoor(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/v1").WithTags("Langflow-compatible API");
        group.MapPost("/run/{id}", RunAsync).WithName("LangflowRun").RequireOrganizationOrAgentKey().WithRequestBodyLimit(512 * 1024)
            .WithSummary("Runs an agent as Langflow's /api/v1/run does (x-api-key header or query parameter; ?stream=true streams).");
        group.MapPost("/webhook/{id}", WebhookAsync).WithName("LangflowWebhook").RequireOrganizationOrAgentKey().WithRequestBodyLimit(512 * 1024)
            .WithSummary("Starts a run in the background with the body as the flow's webhook payload; answers 202.");
    }

    static async Task<IResult> RunAsync(string id, HttpContext http, DoorCallers callers, RunGateway gateway, ILoggerFactory loggers, CancellationToken ct)
    {
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: true, ct);
        if (caller is null)
        {
            return Refused(refusal!.Value);
        }
        var configId = await ResolveAsync(id, caller, callers, ct);
        if (configId is null)
        {
            return FlowNotFound(id);
        }
        using var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, ct);
        JsonDocument? document = null;
        try
        {
            // An empty body is Langflow's all-defaults request.
            document = buffer.Length == 0 ? null : JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException)
        {
            // Langflow (FastAPI) answers 422 to a body that is not JSON.
            return ApiProblem.Create(StatusCodes.Status422UnprocessableEntity, ProblemCodes.MalformedJson, "The request body is not valid JSON.");
        }
        using var parsedDocument = document;
        var parsed = LangflowRunBody.Parse(document?.RootElement ?? default, out var replacedWithDefaults);
        if (replacedWithDefaults)
        {
            // Langflow's own rule: a well-formed body with a wrongly typed field runs as the all-defaults request.
            loggers.CreateLogger(typeof(LangflowEndpoints).FullName!).LogInformation("Langflow run of {ConfigId}: a field had the wrong type; the request ran with Langflow's defaults", configId);
        }
        // Client tweaks are ignored (ADR-060): buyer configuration reaches a flow only through the provider's declared fields.
        var request = new GatewayRequest(configId.Value, parsed.InputValue, parsed.SessionId, null, RunDoor)
        {
            Key = caller.Key,
            InputType = parsed.InputType,
            OutputType = parsed.OutputType,
            OutputComponent = parsed.OutputComponent,
        };
        return IsTrue(http.Request.Query["stream"]) ? await StreamAsync(http, gateway, request, ct) : await RespondAsync(http, gateway, request, ct);
    }

    static async Task<IResult> RespondAsync(HttpContext http, RunGateway gateway, GatewayRequest request, CancellationToken ct)
    {
        var (result, failure) = await gateway.RunAsync(request, null, ct);
        return failure is not null ? Failed(failure, http) : TypedResults.Json(LangflowRunResponse.Build(result!.Engine!));
    }

    /// <summary>
    /// Langflow's stream: one JSON object per event, each followed by a blank line (add_message, token, then end), sent
    /// as the run produces them. A failure after the first event becomes an <c>error</c> event, since the status line is
    /// gone; a refusal before the run (402, 429…) is still a plain error response.
    /// </summary>
    static async Task<IResult> StreamAsync(HttpContext http, RunGateway gateway, GatewayRequest request, CancellationToken ct)
    {
        var started = false;
        async ValueTask WriteAsync(string chunk)
        {
            if (!started)
            {
                started = true;
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                http.Response.Headers["X-Accel-Buffering"] = "no";
            }
            await http.Response.WriteAsync(chunk, ct);
            await http.Response.Body.FlushAsync(ct);
        }
        var (result, failure) = await gateway.RunAsync(request, e => LangflowStreamEvents.ToChunk(e) is { } chunk ? WriteAsync(chunk) : ValueTask.CompletedTask, ct);
        if (failure is not null && !started)
        {
            return Failed(failure, http);
        }
        var last = failure is null
            ? LangflowStreamEvents.ToChunk(new RunCompleted(result!.Engine!))!
            : new JsonObject { ["event"] = "error", ["data"] = new JsonObject { ["error"] = failure.Message, ["code"] = failure.Code } }.ToJsonString() + "\n\n";
        await WriteAsync(last);
        return TypedResults.Empty;
    }

    static async Task<IResult> WebhookAsync(string id, HttpContext http, DoorCallers callers, WebhookQueue queue, CancellationToken ct)
    {
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: true, ct);
        if (caller is null)
        {
            return Refused(refusal!.Value);
        }
        var config = await ResolveAsync(id, caller, callers, ct) is { } resolved ? await callers.RunnableAsync(caller, resolved, ct) : null;
        if (config is null)
        {
            return FlowNotFound(id);
        }
        using var reader = new StreamReader(http.Request.Body);
        var payload = await reader.ReadToEndAsync(ct);
        if (payload.Length == 0)
        {
            return ApiProblem.BadRequest("empty_body", "Request body is empty. You should provide a JSON payload containing the flow ID.");
        }
        // Refused now, while the caller can still hear it; the gateway would refuse it after the 202.
        if (StoredText.HasNul(payload))
        {
            return ApiProblem.Invalid("body", "Remove the NUL character (U+0000): it cannot be stored.");
        }
        // Without a Webhook node the payload would go nowhere, and the flow would run (and be charged) on an empty input.
        var webhookNodes = await WebhookWorker.WebhookNodesAsync(http.RequestServices, config, ct);
        if (webhookNodes.Count == 0)
        {
            return ApiProblem.BadRequest("no_webhook_component",
                $"Flow {id} has no Webhook component, so it cannot take a webhook payload; call POST /api/v1/run/{id} instead.");
        }
        var tenant = http.RequestServices.GetRequiredService<CurrentTenant>();
        if (!queue.TryEnqueue(new WebhookRun(config.Id, caller.OrganizationId, tenant.UserId, caller.Key, payload, webhookNodes)))
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ProblemCodes.ServiceUnavailable, "Too many webhook runs are waiting; retry shortly.");
        }
        return TypedResults.Json(WebhookAccepted, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>A uuid names a subscription directly (the gateway checks it belongs to the caller); anything else is an agent's name.</summary>
    static async Task<Guid?> ResolveAsync(string id, DoorCaller caller, DoorCallers callers, CancellationToken ct) =>
        Guid.TryParse(id, out var configId) ? configId : (await callers.FindAsync(caller, id, AgentNames.SlugLength, ct))?.ConfigId;

    static bool IsTrue(string? value) => value is not null && (bool.TryParse(value, out var flag) ? flag : value is "1" or "yes" or "on");

    static ProblemHttpResult FlowNotFound(string id) =>
        ApiProblem.Create(StatusCodes.Status404NotFound, ProblemCodes.NotFound, $"Flow identifier {id} not found");

    /// <summary>
    /// Langflow's failures: a run that failed is its 500 whose <c>detail</c> is a JSON string (what its chat widget shows);
    /// a refusal before the run keeps its status and is a problem, whose <c>detail</c> is where Langflow clients read.
    /// </summary>
    static IResult Failed(GatewayFailure failure, HttpContext http)
    {
        if (failure.RunId is { } runId && failure.Status != StatusCodes.Status402PaymentRequired)
        {
            var body = LangflowRunResponse.Error(new RunError(failure.Code, failure.Message));
            body["code"] = failure.Code;
            body["run_id"] = runId;
            GatewayEndpoints.SetRetryAfter(http, failure); // a rate-limited model endpoint says when to try again
            return TypedResults.Json(body, statusCode: StatusCodes.Status500InternalServerError);
        }
        return GatewayEndpoints.ToProblem(failure, http);
    }

    static ProblemHttpResult Refused(DoorRefusal refusal) => refusal switch
    {
        DoorRefusal.PublishableKey => ApiProblem.Forbidden("publishable_key",
            "Publishable keys (am_pub_…) work only in the chat widget; call this API with a secret key (am_live_…)."),
        DoorRefusal.UnknownOrganization => ApiProblem.NotFound("organization"),
        DoorRefusal.OrganizationSuspended => ApiProblem.Forbidden(ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage),
        _ => ApiProblem.Create(StatusCodes.Status401Unauthorized, ProblemCodes.Unauthorized, "An API key must be passed as query or header"),
    };
}
