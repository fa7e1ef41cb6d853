using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Gateway;

namespace AgentMarket.Doors.OpenAi;

/// <summary>
/// OpenAI's chat completions API (SPEC §8), so any OpenAI SDK pointed at <c>{base}/v1</c> talks to a subscribed agent:
/// <c>GET /v1/models</c> lists the caller's agents (id = the listing slug) and <c>POST /v1/chat/completions</c> runs
/// one through the gateway, as JSON or as <c>chat.completion.chunk</c> server-sent events ending with <c>[DONE]</c>.
/// Outside <c>/api</c>, so it authenticates callers itself: agent keys and organization tokens as bearer tokens.
/// </summary>
static class OpenAiEndpoints
{
    public const string Door = "openai";

    public static void MapOpenAiDoor(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1").WithTags("OpenAI-compatible API").AllowAnonymous();
        group.MapGet("/models", ListModelsAsync).WithName("OpenAiListModels").WithSummary("The caller's agents as OpenAI models.");
        group.MapGet("/models/{model}", GetModelAsync).WithName("OpenAiGetModel").WithSummary("One of the caller's agents as an OpenAI model.");
        group.MapPost("/chat/completions", CompleteAsync).WithName("OpenAiChatCompletions").WithSummary("Runs an agent: the last user message is its input.");
    }

    static async Task<IResult> ListModelsAsync(HttpContext http, DoorCallers callers, CancellationToken ct)
    {
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: false, ct);
        if (caller is null)
        {
            return OpenAiError.For(refusal!.Value).ToResult(http);
        }
        var agents = await callers.ListAsync(caller, AgentNames.SlugLength, ct);
        return TypedResults.Json(new JsonObject { ["object"] = "list", ["data"] = new JsonArray([.. agents.Select(Model)]) });
    }

    static async Task<IResult> GetModelAsync(string model, HttpContext http, DoorCallers callers, CancellationToken ct)
    {
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: false, ct);
        if (caller is null)
        {
            return OpenAiError.For(refusal!.Value).ToResult(http);
        }
        return await callers.FindAsync(caller, model, AgentNames.SlugLength, ct) is { } agent
            ? TypedResults.Json(Model(agent))
            : OpenAiError.ModelNotFound(model).ToResult(http);
    }

    static JsonNode Model(DoorAgent agent) => new JsonObject
    {
        ["id"] = agent.Name,
        ["object"] = "model",
        ["created"] = new DateTimeOffset(agent.SubscribedUtc, TimeSpan.Zero).ToUnixTimeSeconds(),
        ["owned_by"] = "agentmarket",
    };

    static async Task<IResult> CompleteAsync(HttpContext http, DoorCallers callers, RunGateway gateway, TimeProvider clock, CancellationToken ct)
    {
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: false, ct);
        if (caller is null)
        {
            return OpenAiError.For(refusal!.Value).ToResult(http);
        }
        ChatCompletionRequest? request;
        OpenAiError? invalid;
        try
        {
            using var body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: ct);
            (request, invalid) = ChatCompletionRequest.Parse(body.RootElement);
        }
        catch (JsonException)
        {
            return OpenAiError.MalformedBody.ToResult(http);
        }
        catch (BadHttpRequestException tooLarge) when (tooLarge.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new OpenAiError(StatusCodes.Status413PayloadTooLarge, OpenAiError.InvalidRequest, "payload_too_large", "The request body is too large.").ToResult(http);
        }
        if (invalid is not null)
        {
            return invalid.ToResult(http);
        }
        if (await callers.FindAsync(caller, request!.Model, AgentNames.SlugLength, ct) is not { } agent)
        {
            return OpenAiError.ModelNotFound(request.Model).ToResult(http);
        }
        // The client owns the conversation and resends it each time, so the run's memory is those turns (ADR-060); the
        // end user's id, when the client gives one, is the session that the session credit cap counts.
        var run = new GatewayRequest(agent.ConfigId, request.Input, request.User, null, Door) { Key = caller.Key, History = request.History };
        var completion = new Completion("", clock.GetUtcNow().ToUnixTimeSeconds(), agent.Name);
        if (!request.Stream)
        {
            var (result, failure) = await gateway.RunAsync(run, null, ct);
            return failure is not null
                ? OpenAiError.For(failure).ToResult(http, failure.RetryAfter)
                : TypedResults.Json((completion with { Id = $"chatcmpl-{result!.RunId:N}" }).Whole(result));
        }
        return await StreamAsync(http, gateway, run, completion, request.IncludeUsage, ct);
    }

    /// <summary>
    /// Server-sent <c>chat.completion.chunk</c>s as the model streams (the role first, then content deltas), a final
    /// chunk with <c>finish_reason</c>, the usage chunk when asked for, then <c>[DONE]</c>. Nothing is sent before the
    /// gateway accepts the run, so refusals (402, 429…) keep their status; a failure after that is an <c>error</c> event.
    /// </summary>
    static async Task<IResult> StreamAsync(HttpContext http, RunGateway gateway, GatewayRequest run, Completion completion, bool includeUsage, CancellationToken ct)
    {
        var started = false;
        var streamed = new System.Text.StringBuilder();
        async ValueTask SendAsync(JsonObject data)
        {
            if (!started)
            {
                started = true;
                http.Response.StatusCode = StatusCodes.Status200OK;
                http.Response.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                http.Response.Headers["X-Accel-Buffering"] = "no";
                await http.Response.WriteAsync(Frame(completion.Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, includeUsage)), ct);
            }
            await http.Response.WriteAsync(Frame(data), ct);
            await http.Response.Body.FlushAsync(ct);
        }
        ValueTask Named(string runId)
        {
            completion = completion with { Id = $"chatcmpl-{runId}" };
            return ValueTask.CompletedTask;
        }
        ValueTask ContentAsync(string text)
        {
            streamed.Append(text);
            return SendAsync(completion.Chunk(new JsonObject { ["content"] = text }, null, includeUsage));
        }
        var (result, failure) = await gateway.RunAsync(run, e => e switch
        {
            // The run's id names the completion, as OpenAI's ids name theirs.
            RunStarted runStarted => Named(runStarted.RunId),
            // A streamed answer starts as a partial message holding the first chunk; tokens follow (as on the run API).
            MessageAdded { Message.Properties.State: "partial" } added when added.Message.Text.Length > 0 => ContentAsync(added.Message.Text),
            TokenEmitted token => ContentAsync(token.Chunk),
            _ => ValueTask.CompletedTask,
        }, ct);
        if (failure is not null)
        {
            if (!started)
            {
                return OpenAiError.For(failure).ToResult(http, failure.RetryAfter);
            }
            await SendAsync(OpenAiError.For(failure).ToJson());
            return TypedResults.Empty;
        }
        // Flows whose answer is not streamed by a model (or only partly) send the rest of the output in one delta.
        var output = result!.Output ?? "";
        var rest = output.StartsWith(streamed.ToString(), StringComparison.Ordinal) ? output[streamed.Length..] : "";
        if (rest.Length > 0 || !started)
        {
            await ContentAsync(rest);
        }
        await SendAsync(completion.Chunk(new JsonObject(), "stop", includeUsage));
        if (includeUsage)
        {
            var usage = completion.Chunk(null, null, includeUsage);
            usage["usage"] = Usage(result);
            await SendAsync(usage);
        }
        await http.Response.WriteAsync("data: [DONE]\n\n", ct);
        return TypedResults.Empty;
    }

    static string Frame(JsonObject data) => $"data: {data.ToJsonString()}\n\n";

    static JsonObject Usage(GatewayResult result)
    {
        var (prompt, completion) = result.Engine is { } engine ? (engine.InputTokens, engine.OutputTokens) : (0, 0);
        return new JsonObject { ["prompt_tokens"] = prompt, ["completion_tokens"] = completion, ["total_tokens"] = prompt + completion };
    }

    /// <summary>The fields every object of one completion shares.</summary>
    sealed record Completion(string Id, long Created, string Model)
    {
        public JsonObject Whole(GatewayResult result) => new()
        {
            ["id"] = Id,
            ["object"] = "chat.completion",
            ["created"] = Created,
            ["model"] = Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = result.Output ?? "", ["refusal"] = null, ["annotations"] = new JsonArray() },
                ["logprobs"] = null,
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(result),
            ["system_fingerprint"] = null,
        };

        /// <summary>A chunk with one choice carrying <paramref name="delta"/>, or none (the usage chunk) when it is null.</summary>
        public JsonObject Chunk(JsonObject? delta, string? finishReason, bool includeUsage)
        {
            var chunk = new JsonObject
            {
                ["id"] = Id,
                ["object"] = "chat.completion.chunk",
                ["created"] = Created,
                ["model"] = Model,
                ["system_fingerprint"] = null,
                ["choices"] = delta is null
                    ? new JsonArray()
                    : new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason }),
            };
            if (includeUsage)
            {
                chunk["usage"] = null;
            }
            return chunk;
        }
    }
}
