using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Runtime;
using AgentMarket.Subscriptions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AgentMarket.Doors.Mcp;

/// <summary>
/// The MCP door (SPEC §8): a stateless Streamable HTTP endpoint, <c>POST /mcp</c>, exposing the caller's subscribed
/// agents as tools (an agent key: its one agent; an organization token: every agent of the organization). Each POST
/// carries one JSON-RPC message and gets a fresh server, so any replica can answer any request (PACKAGES.md §2: the
/// ASP.NET Core transport package is absent, the core package's transport is driven by hand). Each tool call is a run
/// through the gateway; a run that fails or is refused comes back as a tool error, so the model can read why.
/// </summary>
static class McpEndpoints
{
    public const string Door = "mcp";

    public static void MapMcpDoor(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/mcp", PostAsync).WithTags("MCP").WithName("McpPost").AllowAnonymous().ExcludeFromDescription();
        // Stateless: no server-initiated stream to open with GET and no session to end with DELETE.
        routes.MapMethods("/mcp", [HttpMethods.Get, HttpMethods.Delete], () => TypedResults.StatusCode(StatusCodes.Status405MethodNotAllowed))
            .WithTags("MCP").AllowAnonymous().ExcludeFromDescription();
    }

    static async Task PostAsync(HttpContext http, ILoggerFactory loggers)
    {
        var ct = http.RequestAborted;
        var (caller, refusal) = await DoorCallers.AuthenticateAsync(http, allowCookie: false, ct);
        if (caller is null)
        {
            await Refused(http, refusal!.Value).ExecuteAsync(http);
            return;
        }
        JsonRpcMessage? message;
        try
        {
            message = (JsonRpcMessage?)await JsonSerializer.DeserializeAsync(http.Request.Body, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)), ct);
        }
        catch (JsonException)
        {
            message = null;
        }
        if (message is null)
        {
            await ParseError().ExecuteAsync(http);
            return;
        }

        // A call can be cancelled by its caller's notifications/cancelled, which comes in a POST of its own (McpCalls).
        var calls = http.RequestServices.GetRequiredService<McpCalls>();
        var userId = http.RequestServices.GetRequiredService<CurrentTenant>().UserId;
        string? mcpSession = http.Request.Headers["Mcp-Session-Id"].FirstOrDefault();
        McpCalls.Call CallNamed(RequestId id) => new(caller.OrganizationId, caller.Key?.KeyId, userId, mcpSession, id);
        if (message is JsonRpcNotification { Method: NotificationMethods.CancelledNotification } cancellation && CancelledCall(cancellation) is { } cancelled)
        {
            calls.Cancel(CallNamed(cancelled));
        }
        using var call = message is JsonRpcRequest { Method: RequestMethods.ToolsCall } request ? calls.Start(CallNamed(request.Id)) : null;

        var tools = new AgentToolbox(caller, http.RequestServices, call?.Token ?? CancellationToken.None);
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation { Name = "agentmarket", Title = "AgentMarket agents", Version = "1.0.0" },
            Capabilities = new ServerCapabilities { Tools = new ToolsCapability() },
            ServerInstructions = "Each tool is an AI agent this organization subscribed to on AgentMarket; a call runs it and is charged like any run.",
            // Handlers must see this request's scope: its tenant is the caller's organization.
            ScopeRequests = false,
            Handlers = new McpServerHandlers { ListToolsHandler = tools.ListAsync, CallToolHandler = tools.CallAsync },
        };
        await using var transport = new StreamableHttpServerTransport(loggers) { Stateless = true };
        await using var server = McpServer.Create(transport, options, loggers, http.RequestServices);
        var serving = server.RunAsync(ct);
        http.Response.Headers.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache,no-store";
        if (!await transport.HandlePostRequestAsync(message, http.Response.Body, ct))
        {
            // A notification or a response: accepted, nothing to answer.
            http.Response.Headers.ContentType = (string?)null;
            http.Response.StatusCode = StatusCodes.Status202Accepted;
        }
        // Closing the transport ends the server's loop normally; cancelling it would throw through every layer of the loop.
        await transport.DisposeAsync();
        await serving;
    }

    /// <summary>The request id a <c>notifications/cancelled</c> names; null when it names none (the spec says to ignore those).</summary>
    static RequestId? CancelledCall(JsonRpcNotification notification)
    {
        try
        {
            return ((CancelledNotificationParams?)notification.Params?.Deserialize(McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CancelledNotificationParams))))?.RequestId;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static ProblemHttpResult Refused(HttpContext http, DoorRefusal refusal)
    {
        switch (refusal)
        {
            case DoorRefusal.PublishableKey:
                return ApiProblem.Forbidden("publishable_key", "Publishable keys (am_pub_…) work only in the chat widget; use a secret key (am_live_…) or an organization token.");
            case DoorRefusal.UnknownOrganization:
                return ApiProblem.NotFound("organization");
            case DoorRefusal.OrganizationSuspended:
                return ApiProblem.Forbidden(ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage);
            default:
                http.Response.Headers.WWWAuthenticate = "Bearer";
                return ApiProblem.Create(StatusCodes.Status401Unauthorized, refusal == DoorRefusal.NoCredentials ? ProblemCodes.Unauthorized : "invalid_credentials",
                    "Send an agent key (am_live_…) or an organization token (am_pat_…) as 'Authorization: Bearer <key>'.");
        }
    }

    static JsonHttpResult<JsonObject> ParseError() => TypedResults.Json(new JsonObject
    {
        ["jsonrpc"] = "2.0",
        ["id"] = null,
        ["error"] = new JsonObject { ["code"] = (int)McpErrorCode.ParseError, ["message"] = "The body is not one JSON-RPC message." },
    }, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>A tool call's structured result: the run as the run API answers it.</summary>
    sealed record ToolRunResult(string Output, string SessionId, Guid RunId, long CreditsCharged, long Balance);

    static readonly JsonSerializerOptions StructuredJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The caller's agents as tools, for one request.</summary>
    /// <param name="cancelled">Cancelled when the caller cancels this call (<see cref="McpCalls"/>).</param>
    sealed class AgentToolbox(DoorCaller caller, IServiceProvider services, CancellationToken cancelled)
    {
        public async ValueTask<ListToolsResult> ListAsync(RequestContext<ListToolsRequestParams> request, CancellationToken ct)
        {
            var agents = await services.GetRequiredService<DoorCallers>().ListAsync(caller, AgentNames.ToolNameLength, ct);
            var inputs = await InputsAsync(agents, ct);
            return new ListToolsResult
            {
                Tools = [.. agents.Select(agent => new Tool
                {
                    Name = agent.Name,
                    Title = agent.Title,
                    Description = agent.Description.Length > 0 ? agent.Description : agent.Title,
                    InputSchema = inputs[agent.ConfigId].Schema(agent.Title),
                })],
            };
        }

        public async ValueTask<CallToolResult> CallAsync(RequestContext<CallToolRequestParams> request, CancellationToken ct)
        {
            var name = request.Params?.Name ?? "";
            var agent = await services.GetRequiredService<DoorCallers>().FindAsync(caller, name, AgentNames.ToolNameLength, ct)
                ?? throw new McpProtocolException($"Unknown tool: '{name}'.", McpErrorCode.InvalidParams);
            var arguments = request.Params?.Arguments is { } given ? new Dictionary<string, JsonElement>(given) : null;
            // Most calls pass only the message and the session: those need no look at the flow.
            var inputs = arguments is null || arguments.Keys.All(key => key is ToolInputs.Message or ToolInputs.Session)
                ? ToolInputs.ChatOnly
                : (await InputsAsync([agent], ct))[agent.ConfigId];
            var (message, session, nodeInputs, problem) = inputs.Read(arguments);
            if (problem is not null)
            {
                return ToolError(problem);
            }
            var run = new GatewayRequest(agent.ConfigId, message, session, null, Door) { Key = caller.Key, NodeInputs = nodeInputs };
            // Cancelled, the run ends as when a client disconnects: the engine stops, the reservation is voided, the run recorded.
            using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, cancelled);
            var (result, failure) = await services.GetRequiredService<RunGateway>().RunAsync(run, null, either.Token);
            if (failure is not null)
            {
                return ToolError($"{failure.Message} ({failure.Code})");
            }
            var output = result!.Output ?? "";
            return new CallToolResult
            {
                Content = [new TextContentBlock { Text = output }],
                StructuredContent = JsonSerializer.SerializeToElement(new ToolRunResult(output, result.SessionId, result.RunId, result.CreditsCharged, result.Balance), StructuredJson),
            };
        }

        static CallToolResult ToolError(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };

        /// <summary>Each agent's inputs, read from the flow of the version its subscription runs.</summary>
        async Task<Dictionary<Guid, ToolInputs>> InputsAsync(IReadOnlyList<DoorAgent> agents, CancellationToken ct)
        {
            var ids = agents.Select(agent => agent.ConfigId).ToList();
            var configs = await services.GetRequiredService<AppDbContext>().CustomerAgentConfigs.AsNoTracking().Where(c => ids.Contains(c.Id)).ToListAsync(ct);
            var versions = services.GetRequiredService<AgentVersionPolicy>();
            var plans = services.GetRequiredService<AgentPlans>();
            var inputs = new Dictionary<Guid, ToolInputs>();
            foreach (var config in configs)
            {
                var plan = await plans.GetAsync(await versions.EffectiveAsync(config, ct));
                inputs[config.Id] = plan is null ? ToolInputs.ChatOnly : ToolInputs.Of(plan.Plan.Report);
            }
            foreach (var id in ids.Where(id => !inputs.ContainsKey(id)))
            {
                inputs[id] = ToolInputs.ChatOnly;
            }
            return inputs;
        }
    }
}
