using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentMarket.Backstage;

/// <summary>
/// The OpenAPI 3 document of one agent's run endpoint, as a Backstage API entity's <c>spec.definition</c>. It describes
/// the public contract of <c>POST /api/agents/{uuid}/run/</c> (see Gateway/GatewayEndpoints.cs and the README): the
/// path parameter is the buyer's own subscription, so the document is the same shape for every agent except its title,
/// description and server.
/// </summary>
static class RunApiDefinition
{
    // Relaxed escaping keeps quotes and apostrophes readable; the document is embedded as a string, never as HTML.
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, IndentSize = 2, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string For(string agentName, string description, string baseUrl, string listingUrl)
    {
        var document = new JsonObject
        {
            ["openapi"] = "3.0.3",
            ["info"] = new JsonObject
            {
                ["title"] = $"{agentName} run API",
                ["version"] = "1.0.0",
                ["description"] = $"{description}\n\nSubscribe on {listingUrl} (\"Add to My Agents\"), create an agent key on the agent's API keys page, then call this endpoint with your subscription's uuid.",
            },
            ["servers"] = new JsonArray(new JsonObject { ["url"] = baseUrl }),
            ["security"] = new JsonArray(new JsonObject { ["agentKey"] = new JsonArray() }),
            ["paths"] = new JsonObject
            {
                ["/api/agents/{uuid}/run/"] = new JsonObject
                {
                    ["post"] = new JsonObject
                    {
                        ["operationId"] = "runAgent",
                        ["summary"] = $"Run {agentName}",
                        ["description"] = "Reserves the run's maximum price, runs the agent and settles the actual price; a failed run costs nothing. With Accept: text/event-stream, tokens stream as server-sent events before one final \"end\" event.",
                        ["parameters"] = new JsonArray(
                            new JsonObject
                            {
                                ["name"] = "uuid",
                                ["in"] = "path",
                                ["required"] = true,
                                ["description"] = "Your subscription to this agent (shown on My Agents).",
                                ["schema"] = new JsonObject { ["type"] = "string", ["format"] = "uuid" },
                            },
                            new JsonObject
                            {
                                ["name"] = "Idempotency-Key",
                                ["in"] = "header",
                                ["required"] = false,
                                ["description"] = "Makes retries safe: a repeated key answers with the first result and is charged once.",
                                ["schema"] = new JsonObject { ["type"] = "string", ["maxLength"] = 200 },
                            }),
                        ["requestBody"] = new JsonObject
                        {
                            ["required"] = true,
                            ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = RequestSchema() } },
                        },
                        ["responses"] = new JsonObject
                        {
                            ["200"] = new JsonObject
                            {
                                ["description"] = "The run's answer.",
                                ["content"] = new JsonObject
                                {
                                    ["application/json"] = new JsonObject { ["schema"] = ResponseSchema() },
                                    ["text/event-stream"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "string" } },
                                },
                            },
                            ["401"] = Problem("Missing or invalid agent key."),
                            ["402"] = Problem("Not enough credits (code insufficient_credits)."),
                            ["404"] = Problem("No such subscription for this key."),
                            ["429"] = Problem("Rate limit reached; see Retry-After."),
                        },
                    },
                },
            },
            ["components"] = new JsonObject
            {
                ["securitySchemes"] = new JsonObject
                {
                    ["agentKey"] = new JsonObject
                    {
                        ["type"] = "http",
                        ["scheme"] = "bearer",
                        ["description"] = "Authorization: Bearer am_live_… (an agent key of the subscription).",
                    },
                },
                ["schemas"] = new JsonObject { ["Problem"] = ProblemSchema() },
            },
        };
        return document.ToJsonString(Indented);
    }

    static JsonObject RequestSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["input"] = new JsonObject { ["type"] = "string", ["maxLength"] = 100_000, ["description"] = "The message for the agent." },
            ["session_id"] = new JsonObject { ["type"] = "string", ["maxLength"] = 200, ["description"] = "Continues a conversation; omitted, a new one starts." },
        },
    };

    static JsonObject ResponseSchema() => new()
    {
        ["type"] = "object",
        ["required"] = new JsonArray("run_id", "session_id", "credits_charged", "balance"),
        ["properties"] = new JsonObject
        {
            ["run_id"] = new JsonObject { ["type"] = "string", ["format"] = "uuid" },
            ["output"] = new JsonObject { ["type"] = "string", ["nullable"] = true },
            ["session_id"] = new JsonObject { ["type"] = "string" },
            ["credits_charged"] = new JsonObject { ["type"] = "integer", ["format"] = "int64" },
            ["balance"] = new JsonObject { ["type"] = "integer", ["format"] = "int64", ["description"] = "The organization's credits after the run." },
        },
    };

    static JsonObject ProblemSchema() => new()
    {
        ["type"] = "object",
        ["properties"] = new JsonObject
        {
            ["type"] = new JsonObject { ["type"] = "string" },
            ["title"] = new JsonObject { ["type"] = "string" },
            ["status"] = new JsonObject { ["type"] = "integer" },
            ["detail"] = new JsonObject { ["type"] = "string" },
            ["code"] = new JsonObject { ["type"] = "string" },
        },
    };

    static JsonObject Problem(string description) => new()
    {
        ["description"] = description,
        ["content"] = new JsonObject
        {
            ["application/problem+json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = "#/components/schemas/Problem" } },
        },
    };
}
