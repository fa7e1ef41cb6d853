using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Platform.Data;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Doors;

/// <summary>One ready-to-paste piece of client configuration.</summary>
/// <param name="Client">Who it is for, e.g. "Claude Desktop".</param>
/// <param name="Where">Where to paste it (a file or a terminal).</param>
/// <param name="Language"><c>json</c>, <c>shell</c> or <c>python</c>, for highlighting.</param>
/// <param name="Text">The snippet.</param>
public sealed record DoorSnippet(string Client, string Where, string Language, string Text);

/// <summary>Everything a buyer needs to reach one subscribed agent through each door.</summary>
public sealed record DoorSnippetSet(string McpUrl, string ToolName, string OpenAiBaseUrl, string Model, string LangflowRunUrl, IReadOnlyList<DoorSnippet> Snippets);

/// <summary>
/// Client configuration for the Configure page: the MCP server for Claude Desktop (through <c>npx mcp-remote</c>),
/// Cursor and Claude Code (native Streamable HTTP), the OpenAI base URL and model, and the Langflow run URL. Written
/// for an agent key, which sees exactly this agent: the model is the listing slug and the one tool is named after it.
/// </summary>
public sealed class DoorSnippets(AppDbContext db)
{
    /// <summary>Stands in for the key, which is shown only once, when the page has none to put in.</summary>
    public const string KeyPlaceholder = "am_live_YOUR_AGENT_KEY";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The snippets for subscription <paramref name="configId"/> of the current organization, or null when it has no such subscription.</summary>
    public async Task<DoorSnippetSet?> ForAsync(Guid configId, Uri baseUrl, string? key, CancellationToken ct)
    {
        var slug = await db.CustomerAgentConfigs.AsNoTracking()
            .Where(c => c.Id == configId && c.State != SubscriptionState.Terminated)
            .Select(c => c.Listing!.Slug)
            .FirstOrDefaultAsync(ct);
        return slug is null ? null : Build(configId, slug, baseUrl, key ?? KeyPlaceholder);
    }

    static DoorSnippetSet Build(Guid configId, string slug, Uri baseUrl, string key)
    {
        var root = baseUrl.GetLeftPart(UriPartial.Authority) + baseUrl.AbsolutePath.TrimEnd('/');
        var mcpUrl = $"{root}/mcp";
        var openAiBase = $"{root}/v1";
        var runUrl = $"{root}/api/v1/run/{configId}";
        var tool = AgentNames.Sanitize(slug, AgentNames.ToolNameLength);
        var server = $"agentmarket-{tool}";

        // mcp-remote's README: keep spaces out of args (Windows quoting), so the header value travels in an environment variable.
        var claudeDesktop = Json(new JsonObject
        {
            ["mcpServers"] = new JsonObject
            {
                [server] = new JsonObject
                {
                    ["command"] = "npx",
                    ["args"] = new JsonArray("-y", "mcp-remote", mcpUrl, "--header", "Authorization:${AGENTMARKET_AUTH}"),
                    ["env"] = new JsonObject { ["AGENTMARKET_AUTH"] = $"Bearer {key}" },
                },
            },
        });
        var cursor = Json(new JsonObject
        {
            ["mcpServers"] = new JsonObject
            {
                [server] = new JsonObject { ["url"] = mcpUrl, ["headers"] = new JsonObject { ["Authorization"] = $"Bearer {key}" } },
            },
        });
        return new DoorSnippetSet(mcpUrl, tool, openAiBase, slug, runUrl,
        [
            new("Claude Desktop", "claude_desktop_config.json", "json", claudeDesktop),
            new("Cursor", ".cursor/mcp.json", "json", cursor),
            new("Claude Code", "terminal", "shell", $"claude mcp add --transport http {server} {mcpUrl} --header \"Authorization: Bearer {key}\""),
            new("OpenAI SDK (Python)", "your code", "python", $$"""
                from openai import OpenAI

                client = OpenAI(base_url="{{openAiBase}}", api_key="{{key}}")
                reply = client.chat.completions.create(model="{{slug}}", messages=[{"role": "user", "content": "Hello"}])
                print(reply.choices[0].message.content)
                """),
            new("Langflow API", "terminal", "shell", $$"""
                curl -X POST "{{runUrl}}" \
                  -H "Content-Type: application/json" -H "x-api-key: {{key}}" \
                  -d '{"input_value": "Hello", "input_type": "chat", "output_type": "chat"}'
                """),
        ]);
    }

    static string Json(JsonNode node) => node.ToJsonString(Indented);
}
