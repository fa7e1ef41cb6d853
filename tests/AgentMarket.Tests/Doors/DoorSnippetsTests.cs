using System.Text.Json;
using AgentMarket.Doors;
using AgentMarket.Tests.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Doors;

/// <summary>The Configure page's ready-to-paste client configuration, checked by parsing it as the clients would.</summary>
public class DoorSnippetsTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    static readonly Uri Site = new("https://agents.example.com/");

    Task<DoorSnippetSet?> SnippetsAsync(Guid organization, Guid config, string? key) =>
        app.InScopeAsync(organization, services => services.GetRequiredService<DoorSnippets>().ForAsync(config, Site, key, CancellationToken.None));

    [Fact]
    public async Task Snippets_NameThisAgentsUrls_ModelAndTool_AndParse()
    {
        var subscribed = await app.SubscribedAsync();
        var set = (await SnippetsAsync(subscribed.Buyer.OrganizationId, subscribed.Config, subscribed.Key))!;

        Assert.Equal(("https://agents.example.com/mcp", "https://agents.example.com/v1", subscribed.Agent.Slug, subscribed.Agent.Slug),
            (set.McpUrl, set.OpenAiBaseUrl, set.Model, set.ToolName));
        Assert.Equal($"https://agents.example.com/api/v1/run/{subscribed.Config}", set.LangflowRunUrl);

        var claude = JsonDocument.Parse(set.Snippets.Single(s => s.Client == "Claude Desktop").Text).RootElement.GetProperty("mcpServers").EnumerateObject().Single().Value;
        Assert.Equal("npx", claude.GetProperty("command").GetString());
        Assert.Equal(["-y", "mcp-remote", set.McpUrl, "--header", "Authorization:${AGENTMARKET_AUTH}"], claude.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal($"Bearer {subscribed.Key}", claude.GetProperty("env").GetProperty("AGENTMARKET_AUTH").GetString());

        var cursor = JsonDocument.Parse(set.Snippets.Single(s => s.Client == "Cursor").Text).RootElement.GetProperty("mcpServers").EnumerateObject().Single().Value;
        Assert.Equal((set.McpUrl, $"Bearer {subscribed.Key}"), (cursor.GetProperty("url").GetString(), cursor.GetProperty("headers").GetProperty("Authorization").GetString()));

        Assert.Contains($"base_url=\"{set.OpenAiBaseUrl}\"", set.Snippets.Single(s => s.Client == "OpenAI SDK (Python)").Text, StringComparison.Ordinal);
        Assert.Contains($"model=\"{subscribed.Agent.Slug}\"", set.Snippets.Single(s => s.Client == "OpenAI SDK (Python)").Text, StringComparison.Ordinal);
        Assert.Contains(set.LangflowRunUrl, set.Snippets.Single(s => s.Client == "Langflow API").Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WithoutAKey_ThePlaceholderStandsIn_AndAnotherOrganizationsAgentHasNone()
    {
        var subscribed = await app.SubscribedAsync();
        var set = (await SnippetsAsync(subscribed.Buyer.OrganizationId, subscribed.Config, null))!;
        Assert.All(set.Snippets, snippet => Assert.Contains(DoorSnippets.KeyPlaceholder, snippet.Text, StringComparison.Ordinal));

        var stranger = await app.SignUpAsync("Stranger");
        Assert.Null(await SnippetsAsync(stranger.OrganizationId, subscribed.Config, null));
    }
}
