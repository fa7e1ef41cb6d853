using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace AgentMarket.Tests.Doors;

/// <summary>The OpenAI-compatible door: OpenAI's official clients, unmodified, talk to a subscribed agent through the gateway.</summary>
public class OpenAiDoorTests(DoorsApp app) : IClassFixture<DoorsApp>
{
    static readonly string[] ShopOrigin = ["https://shop.example"];

    /// <summary>OpenAI's .NET client over the in-memory host, as an application would configure it for another endpoint.</summary>
    OpenAIClientOptions Options() => new()
    {
        Endpoint = new Uri(app.Server.BaseAddress, "/v1"),
        Transport = new HttpClientPipelineTransport(app.Server.CreateClient()),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    [Fact]
    public async Task DotNetClient_ListsTheKeysAgent_Completes_AndStreams_WithUsage_ChargedLikeARun()
    {
        var subscribed = await app.SubscribedAsync();
        var question = $"Which {CatalogIntents.UniqueWord()}?";
        app.Model.When(question, new FakeReply { Text = "The streamed and whole answer.", ChunkSize = 7, Usage = (11, 6) });
        var credential = new ApiKeyCredential(subscribed.Key);

        var models = await new OpenAIModelClient(credential, Options()).GetModelsAsync();
        Assert.Equal([subscribed.Agent.Slug], models.Value.Select(m => m.Id));

        var chat = new ChatClient(subscribed.Agent.Slug, credential, Options());
        ChatCompletion completion = await chat.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage(question)]);
        Assert.Equal("The streamed and whole answer.", Assert.Single(completion.Content).Text);
        Assert.Equal((ChatMessageRole.Assistant, ChatFinishReason.Stop, subscribed.Agent.Slug), (completion.Role, completion.FinishReason, completion.Model));
        Assert.Equal((11, 6, 17), (completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount));
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;
        await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage(question)]))
        {
            updates++;
            text.Append(string.Concat(update.ContentUpdate.Select(part => part.Text)));
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal("The streamed and whole answer.", text.ToString());
        Assert.True(updates > 4, $"the answer came in {updates} updates, not as the model streamed it");
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(17, usage?.TotalTokenCount);

        Assert.Equal(350 - 2 * 5, await subscribed.Buyer.CreditsAsync());
        Assert.All(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config), run => Assert.Equal("openai", run.Door));
    }

    [Fact]
    public async Task EarlierTurns_AreTheAgentsMemory_ForThatRequestOnly()
    {
        var subscribed = await app.SubscribedAsync(await app.MemoryAgentAsync());
        var name = CatalogIntents.UniqueWord();
        var chat = new ChatClient(subscribed.Agent.Slug, new ApiKeyCredential(subscribed.Key), Options());

        await chat.CompleteChatAsync([new UserChatMessage($"My name is {name}."), new AssistantChatMessage("Nice to meet you."), new UserChatMessage("What is my name?")]);
        var remembered = app.Model.Requests.Last(r => r.Prompt.Contains("What is my name?", StringComparison.Ordinal));
        Assert.Contains($"My name is {name}.", remembered.Prompt, StringComparison.Ordinal);
        Assert.Contains("Nice to meet you.", remembered.Prompt, StringComparison.Ordinal);

        // The client owns the conversation: a new one starts empty, whatever ran before.
        await chat.CompleteChatAsync([new UserChatMessage("Who am I, again?")]);
        var fresh = app.Model.Requests.Last(r => r.Prompt.Contains("Who am I, again?", StringComparison.Ordinal));
        Assert.DoesNotContain(name, fresh.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refusals_ComeInOpenAisErrorShape_WithItsStatusAndCode()
    {
        var subscribed = await app.SubscribedAsync();
        var expensive = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1000 }));
        var (_, publishable) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { kind = "publishable", allowed_origins = ShopOrigin });
        object Ask(string model) => new { model, messages = new[] { new { role = "user", content = "Hello?" } } };

        await AssertErrorAsync(await app.CreateClient().PostAsJsonAsync("/v1/chat/completions", Ask(subscribed.Agent.Slug)), 401, "invalid_request_error", "invalid_api_key");
        await AssertErrorAsync(await app.BearerClient("am_live_" + new string('x', 43)).PostAsJsonAsync("/v1/chat/completions", Ask(subscribed.Agent.Slug)), 401, "invalid_request_error", "invalid_api_key");
        await AssertErrorAsync(await app.BearerClient(publishable).PostAsJsonAsync("/v1/chat/completions", Ask(subscribed.Agent.Slug)), 401, "invalid_request_error", "invalid_api_key");
        // A signed-in browser session is not an API credential here.
        await AssertErrorAsync(await subscribed.Buyer.Client.GetAsync("/v1/models"), 401, "invalid_request_error", "invalid_api_key");
        var missing = await AssertErrorAsync(await subscribed.KeyClient.PostAsJsonAsync("/v1/chat/completions", Ask("no-such-agent")), 404, "invalid_request_error", "model_not_found");
        Assert.Equal("model", missing.GetProperty("param").GetString());
        await AssertErrorAsync(await subscribed.KeyClient.GetAsync("/v1/models/no-such-agent"), 404, "invalid_request_error", "model_not_found");

        var unpaid = await Assert.ThrowsAsync<ClientResultException>(() => new ChatClient(expensive.Agent.Slug, new ApiKeyCredential(expensive.Key), Options())
            .CompleteChatAsync([new UserChatMessage("Too dear?")]));
        Assert.Equal(402, unpaid.Status);
        var quota = unpaid.GetRawResponse()!.Content.ToObjectFromJson<JsonElement>().GetProperty("error");
        Assert.Equal(("insufficient_quota", "insufficient_quota"), (quota.GetProperty("type").GetString(), quota.GetProperty("code").GetString()));
        Assert.Contains("1,000 credits", quota.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(350, await expensive.Buyer.CreditsAsync());
    }

    public static TheoryData<string, string, string?> BadBodies => new()
    {
        { "not JSON", "{\"model\": ", null },
        { "an array", "[1, 2]", null },
        { "no model", """{"messages": [{"role": "user", "content": "Hi"}]}""", "model" },
        { "no messages", """{"model": "MODEL", "messages": []}""", "messages" },
        { "wrong role", """{"model": "MODEL", "messages": [{"role": "wizard", "content": "Hi"}]}""", "messages[0].role" },
        { "a part typed by a number", """{"model": "MODEL", "messages": [{"role": "user", "content": [{"type": 1, "text": "Hi"}]}]}""", "messages[0].content" },
        { "an image", """{"model": "MODEL", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x.example/a.png"}}]}]}""", "messages[0].content" },
        { "ends with the assistant", """{"model": "MODEL", "messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}""", "messages" },
        { "tools", """{"model": "MODEL", "messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tools" },
        { "two choices", """{"model": "MODEL", "messages": [{"role": "user", "content": "Hi"}], "n": 2}""", "n" },
        { "stream as text", """{"model": "MODEL", "messages": [{"role": "user", "content": "Hi"}], "stream": "yes"}""", "stream" },
        { "a huge user", $$"""{"model": "MODEL", "messages": [{"role": "user", "content": "Hi"}], "user": "{{new string('u', 201)}}"}""", "user" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task BadRequests_Are400s_NamingTheParameter_AndRunNothing(string what, string body, string? param)
    {
        var subscribed = await app.SubscribedAsync();
        var response = await subscribed.KeyClient.PostAsync("/v1/chat/completions", new StringContent(body.Replace("MODEL", subscribed.Agent.Slug, StringComparison.Ordinal), Encoding.UTF8, "application/json"));
        var error = await AssertErrorAsync(response, 400, "invalid_request_error", null);
        Assert.True(param == (error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString()), what);
        Assert.Empty(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
    }

    [Fact]
    public async Task OrganizationToken_SeesEveryAgentOfItsOrganization_UniquelyNamed_AndNoOtherOrganizations()
    {
        var owner = await app.SignUpAsync("Token owner");
        var agent = await app.PromptAgentAsync();
        var first = await owner.SubscribeAsync(agent);
        var project = (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Second project" }), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var second = (await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug, project }), HttpStatusCode.Created))
            .GetProperty("customer_agent_config").GetGuid();
        var stranger = await app.SubscribedAsync();
        var token = app.Bearer(await owner.CreateTokenAsync());

        var models = await Http.ReadJsonAsync(await token.GetAsync("/v1/models"));
        Assert.Equal("list", models.GetProperty("object").GetString());
        var ids = models.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!).ToList();
        Assert.Equal([agent.Slug, $"{agent.Slug}-{second:N}"[..(agent.Slug.Length + 9)]], ids);
        Assert.DoesNotContain(stranger.Agent.Slug, ids);

        await Http.ReadJsonAsync(await token.PostAsJsonAsync("/v1/chat/completions", new { model = ids[1], messages = new[] { new { role = "user", content = "Second project here" } } }));
        Assert.Single(await app.RunsAsync(owner.OrganizationId, second));
        Assert.Empty(await app.RunsAsync(owner.OrganizationId, first));

        var elsewhere = new { model = stranger.Agent.Slug, messages = new[] { new { role = "user", content = "Not mine" } } };
        await AssertErrorAsync(await token.PostAsJsonAsync("/v1/chat/completions", elsewhere), 404, "invalid_request_error", "model_not_found");
        var asStranger = app.Bearer(await owner.CreateTokenAsync("other"), stranger.Buyer.OrganizationId);
        await AssertErrorAsync(await asStranger.GetAsync("/v1/models"), 404, "invalid_request_error", "organization_not_found");
        Assert.Empty(await app.RunsAsync(stranger.Buyer.OrganizationId, stranger.Config));
    }

    [Fact]
    public async Task ASlugChangedByItsSeller_KeepsReachingTheAgent_ThroughEveryName_AndNoOtherListingCanTakeIt()
    {
        var subscribed = await app.SubscribedAsync();
        var owner = subscribed.Agent;
        var old = owner.Slug;
        var renamed = $"renamed-{CatalogIntents.UniqueWord()}";
        var token = app.Bearer(await subscribed.Buyer.CreateTokenAsync());
        object Ask(string model) => new { model, messages = new[] { new { role = "user", content = "Still there?" } } };

        await Http.AssertStatusAsync(await owner.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{owner.AgentId}/listing/", new { slug = renamed }), HttpStatusCode.OK);

        // Integrations written against the old slug: the OpenAI model (with the key and with an organization token),
        // the agent page (sent to its new address), the catalog API and an order.
        foreach (var client in new[] { subscribed.KeyClient, token })
        {
            var answer = await Http.ReadJsonAsync(await client.PostAsJsonAsync("/v1/chat/completions", Ask(old)));
            Assert.Equal(renamed, answer.GetProperty("model").GetString());
        }
        Assert.Equal([renamed], (await Http.ReadJsonAsync(await subscribed.KeyClient.GetAsync("/v1/models"))).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var visitor = app.CreateClient();
        var page = await visitor.GetAsync($"/agents/{old}?ref=docs");
        Assert.Equal((HttpStatusCode.Found, $"/agents/{renamed}?ref=docs"), (page.StatusCode, page.Headers.Location?.PathAndQuery));
        Assert.Equal(renamed, (await Http.ReadJsonAsync(await visitor.GetAsync($"/api/marketplace/agents/{old}/"))).GetProperty("slug").GetString());
        var buyer = await app.SignUpAsync();
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = old }), HttpStatusCode.Created);

        // Nobody else can take the old slug, while its own listing can take it back.
        var other = await app.PromptAgentAsync();
        await Http.AssertProblemAsync(await other.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{other.AgentId}/listing/", new { slug = old }), HttpStatusCode.Conflict, "slug_taken");
        await Http.AssertStatusAsync(await owner.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{owner.AgentId}/listing/", new { slug = old }), HttpStatusCode.OK);
        Assert.Equal(old, (await Http.ReadJsonAsync(await subscribed.KeyClient.PostAsJsonAsync("/v1/chat/completions", Ask(renamed)))).GetProperty("model").GetString());
        await Http.AssertProblemAsync(await other.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{other.AgentId}/listing/", new { slug = renamed }), HttpStatusCode.Conflict, "slug_taken");
    }

    [Fact]
    public async Task NodeOpenAiClient_ListsCompletesStreams_AndReadsErrors_Unmodified()
    {
        var subscribed = await app.SubscribedAsync();
        var expensive = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1000 }));
        var question = $"From Node {CatalogIntents.UniqueWord()}";
        app.Model.When(question, new FakeReply { Text = "Node gets streamed text.", ChunkSize = 5, Usage = (9, 4) });

        var report = await NodeClients.RunAsync("openai.mjs", new
        {
            baseUrl = app.BaseUrl, key = subscribed.Key, model = subscribed.Agent.Slug, question,
            unaffordable = new { key = expensive.Key, model = expensive.Agent.Slug },
        });

        Assert.Equal([subscribed.Agent.Slug], report.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        var completion = report.GetProperty("completion");
        Assert.Equal(("chat.completion", "assistant", "Node gets streamed text.", "stop"), (completion.GetProperty("object").GetString(), completion.GetProperty("role").GetString(),
            completion.GetProperty("content").GetString(), completion.GetProperty("finish_reason").GetString()));
        Assert.Equal(13, completion.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var stream = report.GetProperty("stream");
        Assert.Equal("Node gets streamed text.", stream.GetProperty("text").GetString());
        Assert.All(stream.GetProperty("objects").EnumerateArray(), o => Assert.Equal("chat.completion.chunk", o.GetString()));
        Assert.True(stream.GetProperty("chunks").GetInt32() > 4);
        Assert.Equal(("stop", 13), (stream.GetProperty("finish_reason").GetString(), stream.GetProperty("usage").GetProperty("total_tokens").GetInt32()));
        var unaffordable = report.GetProperty("unaffordable");
        Assert.Equal((402, "insufficient_quota"), (unaffordable.GetProperty("status").GetInt32(), unaffordable.GetProperty("code").GetString()));
        var unknown = report.GetProperty("unknownModel");
        Assert.Equal(("NotFoundError", 404, "model_not_found"), (unknown.GetProperty("name").GetString(), unknown.GetProperty("status").GetInt32(), unknown.GetProperty("code").GetString()));
        Assert.Equal(350 - 2 * 5, await subscribed.Buyer.CreditsAsync());
    }

    static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string type, string? code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").ValueKind == JsonValueKind.Null ? null : error.GetProperty("code").GetString());
        Assert.True(error.GetProperty("message").GetString()!.Length > 0);
        return error;
    }
}
