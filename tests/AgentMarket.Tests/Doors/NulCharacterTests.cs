using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Widget;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Client;

namespace AgentMarket.Tests.Doors;

/// <summary>
/// U+0000 in what a door sends is refused before the run: PostgreSQL stores no NUL in text, so such a run could keep
/// neither its session messages nor its record, and would answer without being charged.
/// </summary>
public class NulCharacterTests(DoorsApp app) : IClassFixture<DoorsApp>
{
    const string WithNul = "Hello\0 there";

    [Fact]
    public async Task RunApi_InputOrSessionWithNul_Is400_AndNothingIsChargedOrStored()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.CreditsAsync();

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, WithNul), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello", session: "chat\0one"), HttpStatusCode.BadRequest, "validation_failed");

        await AssertNothingHappenedAsync(subscribed, before);
    }

    [Fact]
    public async Task Playground_InputWithNul_Is400_AndNothingIsStored()
    {
        var agent = await app.PromptAgentAsync();

        await Http.AssertProblemAsync(await app.CreateClient().PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = WithNul }),
            HttpStatusCode.BadRequest, "validation_failed");

        Assert.Equal(0, await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AgentRuns.CountAsync(r => r.ListingId == agent.ListingId)));
    }

    [Fact]
    public async Task LangflowRunAndWebhook_WithNul_Are400_AndNothingIsChargedOrStored()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.CreditsAsync();
        await Http.AssertProblemAsync(await subscribed.KeyClient.PostAsJsonAsync($"/api/v1/run/{subscribed.Config}", new { input_value = WithNul }),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await subscribed.KeyClient.PostAsJsonAsync($"/api/v1/run/{subscribed.Config}", new { input_value = "Hello", session_id = "s\0" }),
            HttpStatusCode.BadRequest, "validation_failed");
        await AssertNothingHappenedAsync(subscribed, before);

        var hooked = await app.SubscribedAsync(await app.ExampleAgentAsync(DoorIntents.Template("webhook-automation.json")));
        var hookedBefore = await hooked.Buyer.CreditsAsync();
        await Http.AssertProblemAsync(await hooked.KeyClient.PostAsync($"/api/v1/webhook/{hooked.Agent.Slug}", new StringContent("{\"event\": \"order\0\"}", Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "validation_failed");
        await AssertNothingHappenedAsync(hooked, hookedBefore);
    }

    [Fact]
    public async Task OpenAi_InputOrEarlierTurnWithNul_Is400InOpenAisShape_AndNothingIsChargedOrStored()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.CreditsAsync();
        object[] inInput = [new { role = "user", content = WithNul }];
        object[] inHistory = [new { role = "user", content = WithNul }, new { role = "assistant", content = "Hi" }, new { role = "user", content = "Again?" }];

        foreach (var messages in new[] { inInput, inHistory })
        {
            var response = await subscribed.KeyClient.PostAsJsonAsync("/v1/chat/completions", new { model = subscribed.Agent.Slug, messages });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = (await Http.ReadJsonAsync(response, HttpStatusCode.BadRequest)).GetProperty("error");
            Assert.Equal(("invalid_request_error", "validation_failed"), (error.GetProperty("type").GetString(), error.GetProperty("code").GetString()));
        }

        await AssertNothingHappenedAsync(subscribed, before);
    }

    [Fact]
    public async Task Widget_MessageWithNul_Is400_AndNothingIsChargedOrStored()
    {
        var embedded = await app.EmbeddedAsync();
        var session = await app.OpenSessionAsync(embedded.PublishableKey);
        var before = await embedded.Buyer.CreditsAsync();

        await Http.AssertProblemAsync(await app.SendAsync(session.Token, WithNul), HttpStatusCode.BadRequest, "validation_failed");

        await AssertNothingHappenedAsync(embedded.Subscribed, before);
    }

    [Fact]
    public async Task McpToolCall_WithNul_IsAToolError_AndNothingIsChargedOrStored()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.CreditsAsync();
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(app.Server.BaseAddress, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {subscribed.Key}" },
        }, app.Server.CreateClient(), null, false);
        await using var client = await McpClient.CreateAsync(transport, cancellationToken: TestContext.Current.CancellationToken);

        var result = await client.CallToolAsync(subscribed.Agent.Slug, new Dictionary<string, object?> { ["input"] = WithNul }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(result.IsError);
        Assert.Contains("validation_failed", Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
        await AssertNothingHappenedAsync(subscribed, before);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ModelAnswerWithNul_IsChargedAndRecorded_WithTheNulReplacedWhereStored(bool streamed)
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.CreditsAsync();
        var question = $"answer with a nul {CatalogIntents.UniqueWord()}";
        const string answer = "Part one\0part two";
        app.Model.When(question, FakeReply.Say(answer) with { ChunkSize = 3 });
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = question });
        if (streamed)
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
        }

        var response = await subscribed.KeyClient.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal(AgentRunStatus.Succeeded, run.Status);
        Assert.True(run.CreditsCharged > 0);
        Assert.Equal(StoredText.Storable(answer), run.Output);
        Assert.Equal(before - run.CreditsCharged, await subscribed.Buyer.CreditsAsync());
        var stored = await StoredMessagesAsync(subscribed);
        Assert.Contains(StoredText.Storable(answer), stored);
        Assert.DoesNotContain(stored, text => StoredText.HasNul(text));
    }

    [Fact]
    public async Task WebhookPayloadWithAnEscapedNul_ThatTheFlowAnswersWith_IsChargedAndRecorded()
    {
        var hooked = await app.SubscribedAsync(await app.ExampleAgentAsync(WebhookEchoFlow()));
        var before = await hooked.Buyer.CreditsAsync();
        var order = $"order {CatalogIntents.UniqueWord()}";
        // The body holds the six characters \u0000, which pass the door's check; parsed, the flow gets the NUL itself.
        var body = $$"""{"event": "{{order}}\u0000 placed"}""";

        var response = await hooked.KeyClient.PostAsync($"/api/v1/webhook/{hooked.Agent.Slug}", new StringContent(body, Encoding.UTF8, "application/json"),
            TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await DoorIntents.EventuallyAsync(async () => (await app.RunsAsync(hooked.Buyer.OrganizationId, hooked.Config)).Any(r => r.FinishedUtc is not null), "the webhook run finished");
        var run = Assert.Single(await app.RunsAsync(hooked.Buyer.OrganizationId, hooked.Config));
        Assert.Equal((AgentRunStatus.Succeeded, StoredText.Storable($"{order}\0 placed")), (run.Status, run.Output));
        Assert.True(run.CreditsCharged > 0);
        Assert.Equal(before - run.CreditsCharged, await hooked.Buyer.CreditsAsync());
        Assert.DoesNotContain(await StoredMessagesAsync(hooked), text => StoredText.HasNul(text));
    }

    /// <summary>The webhook template cut down to Webhook → Parser ("{event}") → Chat Output: the payload's text is the answer.</summary>
    static byte[] WebhookEchoFlow()
    {
        var flow = JsonNode.Parse(DoorIntents.Template("webhook-automation.json"))!;
        var data = flow["data"]!;
        var nodes = data["nodes"]!.AsArray();
        foreach (var node in nodes.Where(n => n!["id"]!.GetValue<string>() is var id && (id.StartsWith("Prompt", StringComparison.Ordinal) || id.StartsWith("LanguageModel", StringComparison.Ordinal))).ToList())
        {
            nodes.Remove(node);
        }
        var parser = nodes.Single(n => n!["id"]!.GetValue<string>().StartsWith("parser", StringComparison.Ordinal))!["data"]!["node"]!["template"]!;
        parser["mode"]!["value"] = "Parser";
        parser["pattern"]!["value"] = "{event}";
        var edges = data["edges"]!.AsArray();
        var toModel = edges.Single(e => e!["source"]!.GetValue<string>().StartsWith("parser", StringComparison.Ordinal))!;
        var toOutput = edges.Single(e => e!["target"]!.GetValue<string>().StartsWith("ChatOutput", StringComparison.Ordinal))!;
        var echo = new JsonObject
        {
            ["source"] = toModel["source"]!.DeepClone(),
            ["target"] = toOutput["target"]!.DeepClone(),
            ["id"] = "parser-to-output",
            ["data"] = new JsonObject { ["sourceHandle"] = toModel["data"]!["sourceHandle"]!.DeepClone(), ["targetHandle"] = toOutput["data"]!["targetHandle"]!.DeepClone() },
        };
        data["edges"] = new JsonArray(edges.First(e => e!["source"]!.GetValue<string>().StartsWith("Webhook", StringComparison.Ordinal))!.DeepClone(), echo);
        return Encoding.UTF8.GetBytes(flow.ToJsonString());
    }

    Task<List<string>> StoredMessagesAsync(Subscribed subscribed) =>
        app.InScopeAsync(subscribed.Buyer.OrganizationId, services => services.GetRequiredService<AppDbContext>().SessionMessages
            .Where(m => m.PartitionId == subscribed.Config).Select(m => m.Text).ToListAsync());

    async Task AssertNothingHappenedAsync(Subscribed subscribed, long creditsBefore)
    {
        Assert.Empty(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal(creditsBefore, await subscribed.Buyer.CreditsAsync());
        Assert.Equal(0, await app.InScopeAsync(subscribed.Buyer.OrganizationId,
            services => services.GetRequiredService<AppDbContext>().SessionMessages.CountAsync(m => m.PartitionId == subscribed.Config)));
    }
}
