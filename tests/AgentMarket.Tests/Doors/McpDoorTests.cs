using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AgentMarket.Tests.Doors;

/// <summary>The MCP door: subscribed agents as tools over Streamable HTTP, for the MCP SDKs' own clients.</summary>
public partial class McpDoorTests(DoorsApp app) : IClassFixture<DoorsApp>
{
    static readonly string[] ShopOrigin = ["https://shop.example"];

    /// <summary>The core package's client over the in-memory host, authenticated with <paramref name="credential"/>.</summary>
    async Task<McpClient> ConnectAsync(string credential, Guid? organization = null)
    {
        var headers = new Dictionary<string, string> { ["Authorization"] = $"Bearer {credential}" };
        if (organization is { } id)
        {
            headers["X-Organization"] = id.ToString();
        }
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(app.Server.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        }, app.Server.CreateClient(), null, false);
        return await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task DotNetClient_SeesTheKeysAgentAsATool_AndACallIsARun()
    {
        var subscribed = await app.SubscribedAsync();
        var question = $"Tool question {CatalogIntents.UniqueWord()}";
        app.Model.When(question, FakeReply.Say("A tool answer."));
        await using var client = await ConnectAsync(subscribed.Key);
        Assert.Equal("agentmarket", client.ServerInfo?.Name);

        var tool = Assert.Single(await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(subscribed.Agent.Slug, tool.Name);
        Assert.Equal("Answers questions politely.", tool.Description);
        Assert.Equal(subscribed.Agent.Name, tool.Title);
        var schema = tool.JsonSchema;
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Equal(["input", "session_id"], schema.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        Assert.Equal(["input"], schema.GetProperty("required").EnumerateArray().Select(r => r.GetString()));

        var result = await client.CallToolAsync(tool.Name, new Dictionary<string, object?> { ["input"] = question }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.NotEqual(true, result.IsError);
        Assert.Equal("A tool answer.", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        var structured = result.StructuredContent!.Value;
        Assert.Equal((5, 345), (structured.GetProperty("credits_charged").GetInt64(), structured.GetProperty("balance").GetInt64()));
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal(("mcp", structured.GetProperty("session_id").GetString()), (run.Door, run.SessionId));
        Assert.Equal(345, await subscribed.Buyer.CreditsAsync());
    }

    [Fact]
    public async Task SessionId_ContinuesAConversation_WithTheAgentsMemory()
    {
        var subscribed = await app.SubscribedAsync(await app.MemoryAgentAsync());
        var word = CatalogIntents.UniqueWord();
        await using var client = await ConnectAsync(subscribed.Key);
        var first = await client.CallToolAsync(subscribed.Agent.Slug, new Dictionary<string, object?> { ["input"] = $"Remember the word {word}." },
            cancellationToken: TestContext.Current.CancellationToken);
        var session = first.StructuredContent!.Value.GetProperty("session_id").GetString();

        await client.CallToolAsync(subscribed.Agent.Slug, new Dictionary<string, object?> { ["input"] = "Which word did I give you?", ["session_id"] = session },
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Contains($"Remember the word {word}.", app.Model.Requests.Last(r => r.Prompt.Contains("Which word did I give you?", StringComparison.Ordinal)).Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TextInputs_BecomeArguments_AndReachTheirNodes()
    {
        var subscribed = await app.SubscribedAsync(await app.ExampleAgentAsync(CatalogIntents.ExampleFlow("SimpleAPITest.json")));
        await using var client = await ConnectAsync(subscribed.Key);
        var tool = Assert.Single(await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken));
        Assert.Equal(["input", "text_input", "session_id"], tool.JsonSchema.GetProperty("properties").EnumerateObject().Select(p => p.Name));

        var session = $"text-{CatalogIntents.UniqueWord()}";
        var result = await client.CallToolAsync(tool.Name, new Dictionary<string, object?> { ["input"] = "Echo me", ["text_input"] = "Captain", ["session_id"] = session },
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.Equal("Echo me", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
        // In this flow the Text Input names the sender of the answer, which the session's memory records.
        var senders = await app.InScopeAsync(subscribed.Buyer.OrganizationId, services => services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>()
            .SessionMessages.AsNoTracking().Where(m => m.SessionId == session && m.Sender == "Machine").Select(m => m.SenderName).ToListAsync());
        Assert.Equal(["Captain"], senders);

        var wrong = await client.CallToolAsync(tool.Name, new Dictionary<string, object?> { ["input"] = "Hi", ["persona"] = "evil" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(wrong.IsError);
        Assert.Contains("Unknown argument 'persona'", ((TextContentBlock)wrong.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailuresAndRefusals_AreToolErrors_ThatSayWhy()
    {
        var expensive = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1000 }));
        await using var client = await ConnectAsync(expensive.Key);
        var unpaid = await client.CallToolAsync(expensive.Agent.Slug, new Dictionary<string, object?> { ["input"] = "Too dear?" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(unpaid.IsError);
        Assert.Contains("1,000 credits", ((TextContentBlock)unpaid.Content[0]).Text, StringComparison.Ordinal);
        Assert.Contains("insufficient_credits", ((TextContentBlock)unpaid.Content[0]).Text, StringComparison.Ordinal);

        var subscribed = await app.SubscribedAsync();
        var question = $"Failing {CatalogIntents.UniqueWord()}";
        app.Model.When(question, FakeReply.Fail(500));
        await using var other = await ConnectAsync(subscribed.Key);
        var failed = await other.CallToolAsync(subscribed.Agent.Slug, new Dictionary<string, object?> { ["input"] = question }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(failed.IsError);
        Assert.Contains("model_error", ((TextContentBlock)failed.Content[0]).Text, StringComparison.Ordinal);
        var empty = await other.CallToolAsync(subscribed.Agent.Slug, new Dictionary<string, object?>(), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(empty.IsError);
        await Assert.ThrowsAsync<McpProtocolException>(() => other.CallToolAsync("no-such-agent", new Dictionary<string, object?> { ["input"] = "?" },
            cancellationToken: TestContext.Current.CancellationToken).AsTask());
        Assert.Equal((350, 350), (await subscribed.Buyer.CreditsAsync(), await expensive.Buyer.CreditsAsync()));
    }

    [Fact]
    public async Task NotificationsCancelled_EndsTheCallersOwnToolCall_Uncharged_AndNoOneElses()
    {
        var agent = await app.PromptAgentAsync();
        var (mine, theirs) = (await app.SubscribedAsync(agent), await app.SubscribedAsync(agent));
        var (myCredits, theirCredits) = (await mine.Buyer.CreditsAsync(), await theirs.Buyer.CreditsAsync());
        var question = $"Held question {CatalogIntents.UniqueWord()}";
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Model.When(question, FakeReply.Say("A held answer.") with { Gate = held.Task });
        // Both callers use the same request id: ids are the client's, so only who sent them tells the calls apart.
        var call = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 7, method = "tools/call", @params = new { name = agent.Slug, arguments = new { input = question } } });
        const string cancel = """{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"The user stopped it."}}""";
        Task<HttpResponseMessage> theirCall;
        try
        {
            var myCall = mine.KeyClient.SendAsync(McpPost(call));
            theirCall = theirs.KeyClient.SendAsync(McpPost(call));
            await DoorIntents.EventuallyAsync(() => Task.FromResult(app.Model.Requests.Count(r => r.Prompt.Contains(question, StringComparison.Ordinal)) == 2),
                "both calls reached the model");

            Assert.Equal(HttpStatusCode.Accepted, (await mine.KeyClient.SendAsync(McpPost(cancel))).StatusCode);

            var ended = await myCall.WaitAsync(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken);
            Assert.False(theirCall.IsCompleted);
            Assert.True(ToolResult(await ended.Content.ReadAsStringAsync()).GetProperty("isError").GetBoolean());
            var run = Assert.Single(await app.RunsAsync(mine.Buyer.OrganizationId, mine.Config));
            Assert.Equal((AgentMarket.Gateway.AgentRunStatus.Failed, 0L), (run.Status, run.CreditsCharged));
            Assert.Equal(myCredits, await mine.Buyer.CreditsAsync());
        }
        finally
        {
            held.TrySetResult();
        }
        // Their call went on through my cancellation of the same id: released, it answers and is charged.
        var answered = ToolResult(await (await theirCall).Content.ReadAsStringAsync());
        Assert.False(answered.TryGetProperty("isError", out var isError) && isError.GetBoolean());
        var charged = answered.GetProperty("structuredContent").GetProperty("credits_charged").GetInt64();
        Assert.True(charged > 0);
        Assert.Equal(theirCredits - charged, await theirs.Buyer.CreditsAsync());
    }

    static HttpRequestMessage McpPost(string body) => new(HttpMethod.Post, "/mcp")
    {
        Content = new StringContent(body, Encoding.UTF8, "application/json"),
        Headers = { { "Accept", "application/json, text/event-stream" } },
    };

    /// <summary>The <c>result</c> of the one JSON-RPC response in a Streamable HTTP answer's event stream.</summary>
    static JsonElement ToolResult(string events)
    {
        var data = events.Split('\n').Single(line => line.StartsWith("data:", StringComparison.Ordinal))["data:".Length..];
        return JsonDocument.Parse(data).RootElement.GetProperty("result").Clone();
    }

    [Fact]
    public async Task Callers_WithoutASecretCredential_AreRefusedAtTheDoor()
    {
        var subscribed = await app.SubscribedAsync();
        var initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}""";
        HttpRequestMessage Post(string body) => new(HttpMethod.Post, "/mcp")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
            Headers = { { "Accept", "application/json, text/event-stream" } },
        };

        var anonymous = await app.CreateClient().SendAsync(Post(initialize));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Bearer", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, (await subscribed.Buyer.Client.SendAsync(Post(initialize))).StatusCode);
        var (_, publishable) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { kind = "publishable", allowed_origins = ShopOrigin });
        await Http.AssertProblemAsync(await app.BearerClient(publishable).SendAsync(Post(initialize)), HttpStatusCode.Forbidden, "publishable_key");

        var garbled = await subscribed.KeyClient.SendAsync(Post("{\"jsonrpc\": "));
        Assert.Equal(HttpStatusCode.BadRequest, garbled.StatusCode);
        Assert.Equal(-32700, (await garbled.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await subscribed.KeyClient.GetAsync("/mcp")).StatusCode);
    }

    [Fact]
    public async Task OrganizationToken_SeesItsOrganizationsAgents_NamedUniquelyWithin64Characters_AndNoOneElses()
    {
        var owner = await app.SignUpAsync("Tool owner");
        // Two slugs that are the same for their first 64 characters: cut to MCP's limit, they would collide.
        var stem = "long-" + new string('a', 55) + "-" + CatalogIntents.UniqueWord()[..3];
        var alpha = await app.PublishedAgentAsync(slug: $"{stem}-alpha");
        var bravo = await app.PublishedAgentAsync(slug: $"{stem}-bravo");
        var alphaConfig = await owner.SubscribeAsync(alpha);
        var bravoConfig = await owner.SubscribeAsync(bravo);
        var stranger = await app.SubscribedAsync();

        await using var client = await ConnectAsync(await owner.CreateTokenAsync());
        var tools = await client.ListToolsAsync(cancellationToken: TestContext.Current.CancellationToken);
        var names = tools.Select(t => t.Name).ToList();
        Assert.Equal(2, names.Distinct().Count());
        Assert.All(names, name => Assert.Matches(ToolName(), name));
        Assert.Equal(stem[..64], names[0]);
        Assert.Equal($"{stem[..55]}-{bravoConfig:N}"[..64], names[1]);
        Assert.DoesNotContain(tools, t => t.Name == stranger.Agent.Slug);

        await client.CallToolAsync(names[1], new Dictionary<string, object?> { ["input"] = "Bravo, please" }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.Single(await app.RunsAsync(owner.OrganizationId, bravoConfig));
        Assert.Empty(await app.RunsAsync(owner.OrganizationId, alphaConfig));
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync(stranger.Agent.Slug, new Dictionary<string, object?> { ["input"] = "Not mine" },
            cancellationToken: TestContext.Current.CancellationToken).AsTask());
        Assert.Empty(await app.RunsAsync(stranger.Buyer.OrganizationId, stranger.Config));
    }

    [Fact]
    public async Task NodeMcpClient_ListsAndCallsTools_Unmodified()
    {
        var subscribed = await app.SubscribedAsync();
        var question = $"From the TypeScript SDK {CatalogIntents.UniqueWord()}";
        app.Model.When(question, FakeReply.Say("Hello, TypeScript."));

        var report = await NodeClients.RunAsync("mcp.mjs", new { baseUrl = app.BaseUrl, key = subscribed.Key, tool = subscribed.Agent.Slug, question });

        Assert.Equal("agentmarket", report.GetProperty("server").GetProperty("name").GetString());
        var tool = Assert.Single(report.GetProperty("tools").EnumerateArray());
        Assert.Equal(subscribed.Agent.Slug, tool.GetProperty("name").GetString());
        Assert.Equal("object", tool.GetProperty("inputSchema").GetProperty("type").GetString());
        var call = report.GetProperty("call");
        Assert.False(call.TryGetProperty("isError", out var isError) && isError.GetBoolean());
        Assert.Equal("Hello, TypeScript.", call.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(5, call.GetProperty("structuredContent").GetProperty("credits_charged").GetInt64());
        Assert.True(report.GetProperty("missingInput").GetProperty("isError").GetBoolean());
        Assert.Contains("401", report.GetProperty("anonymous").GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(345, await subscribed.Buyer.CreditsAsync());
    }

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex ToolName();
}
