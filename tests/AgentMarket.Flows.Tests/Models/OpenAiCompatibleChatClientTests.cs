using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Tests.Models;

/// <summary>The OpenAI-package adapter against the fake server over HTTP.</summary>
public class OpenAiCompatibleChatClientTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task Response_CarriesTextUsageAndModel_AndTheRequestCarriesKeyAndOptions()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("Hi!") with { Usage = (12, 3) });
        using var client = TestServices.Client(server);

        var response = await client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Hello")],
            new ChatOptions { Temperature = 0.3f, MaxOutputTokens = 50, ModelId = "gpt-test" },
            Ct);

        Assert.Equal("Hi!", response.Text);
        Assert.Equal((12L, 3L, 15L), (response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, response.Usage?.TotalTokenCount));
        Assert.Equal("gpt-test", response.ModelId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        var request = Assert.Single(server.Requests);
        Assert.Equal("Bearer sk-test", request.Authorization);
        Assert.Equal("gpt-test", request.Model);
        Assert.Equal(0.3, request.Body.GetProperty("temperature").GetDouble(), 5);
        Assert.Equal(50, request.Body.TryGetProperty("max_completion_tokens", out var tokens) ? tokens.GetInt32() : request.Body.GetProperty("max_tokens").GetInt32());
        Assert.Equal([("system", "Be brief."), ("user", "Hello")], request.Messages);
    }

    [Fact]
    public async Task EmptyModel_UsesTheConfiguredDefault()
    {
        var server = model.Fresh();
        using var client = TestServices.Client(server, model: "the-default");

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct);

        Assert.Equal("the-default", Assert.Single(server.Requests).Model);
    }

    [Fact]
    public async Task Streaming_YieldsChunksAndUsage_AndAsksForUsage()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("abcdefgh") with { ChunkSize = 3, Usage = (4, 2) });
        using var client = TestServices.Client(server);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct))
        {
            updates.Add(update);
        }

        Assert.Equal(["abc", "def", "gh"], updates.Select(update => update.Text).Where(text => text.Length > 0));
        var usage = updates.SelectMany(update => update.Contents).OfType<UsageContent>().Single();
        Assert.Equal((4L, 2L), (usage.Details.InputTokenCount, usage.Details.OutputTokenCount));
        Assert.True(server.Requests[0].Stream);
        Assert.True(server.Requests[0].IncludeUsage);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ToolCalls_AreReturnedWithParsedArguments_AndToolResultsSentBack(bool streaming)
    {
        var server = model.Fresh()
            .When("42", FakeReply.Say("The answer is 42."))
            .Otherwise(FakeReply.Call("lookup", """{"query":"meaning of life","limit":3}""", id: "call_7"));
        using var client = TestServices.Client(server);
        var tool = new ProbeTool();
        List<ChatMessage> chat = [new(ChatRole.User, "What is the meaning of life?")];
        var options = new ChatOptions { Tools = [tool] };

        var calls = streaming
            ? await StreamedCallsAsync(client, chat, options)
            : (await client.GetResponseAsync(chat, options, Ct)).Messages.SelectMany(message => message.Contents).OfType<FunctionCallContent>().ToList();

        var call = Assert.Single(calls);
        Assert.Equal(("call_7", "lookup"), (call.CallId, call.Name));
        Assert.Equal("meaning of life", ((JsonElement)call.Arguments!["query"]!).GetString());
        Assert.Equal(3, ((JsonElement)call.Arguments["limit"]!).GetInt32());
        Assert.Equal(["lookup"], server.Requests[0].ToolNames);

        chat.Add(new ChatMessage(ChatRole.Assistant, [call]));
        chat.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call_7", "42")]));
        var final = await client.GetResponseAsync(chat, options, Ct);

        Assert.Equal("The answer is 42.", final.Text);
        var sent = server.Requests[1].Body.GetProperty("messages");
        Assert.Equal("call_7", sent[1].GetProperty("tool_calls")[0].GetProperty("id").GetString());
        Assert.Equal(("tool", "call_7", "42"), (sent[2].GetProperty("role").GetString(), sent[2].GetProperty("tool_call_id").GetString(), sent[2].GetProperty("content").GetString()));
    }

    static async Task<List<FunctionCallContent>> StreamedCallsAsync(OpenAiCompatibleChatClient client, List<ChatMessage> chat, ChatOptions options)
    {
        var calls = new List<FunctionCallContent>();
        await foreach (var update in client.GetStreamingResponseAsync(chat, options, Ct))
        {
            calls.AddRange(update.Contents.OfType<FunctionCallContent>());
        }

        return calls;
    }

    [Fact]
    public async Task JsonModes_AreSentAsResponseFormat()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("{}"));
        using var client = TestServices.Client(server);
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"}}}""").RootElement;

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, Ct);
        await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "Thing") }, Ct);

        Assert.Equal("json_object", server.Requests[0].ResponseFormat!.Value.GetProperty("type").GetString());
        var jsonSchema = server.Requests[1].ResponseFormat!.Value.GetProperty("json_schema");
        Assert.Equal("Thing", jsonSchema.GetProperty("name").GetString());
        Assert.Equal("string", jsonSchema.GetProperty("schema").GetProperty("properties").GetProperty("a").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    public async Task ErrorStatus_BecomesAModelEndpointException(int status)
    {
        var server = model.Fresh().Otherwise(FakeReply.Fail(status));
        using var client = TestServices.Client(server);

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct));

        Assert.Equal(status, failure.Status);
        Assert.StartsWith($"the model endpoint answered HTTP {status}", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A429_SaysHowLongTheEndpointAskedToWait()
    {
        var server = model.Fresh().Otherwise(FakeReply.Fail(429) with { RetryAfterSeconds = 17 });
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions { BaseUrl = server.BaseUrl, Model = "m", MaxRetries = 0 });

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct));

        Assert.Equal((429, TimeSpan.FromSeconds(17), false), (failure.Status, failure.RetryAfter, failure.TimedOut));
    }

    [Fact]
    public async Task Retries_RecoverFromATransient429()
    {
        var server = model.Fresh().When(_ => true, FakeReply.Fail(429), times: 1).Otherwise(FakeReply.Say("recovered"));
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions { BaseUrl = server.BaseUrl, Model = "m", MaxRetries = 1 });

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct);

        Assert.Equal("recovered", response.Text);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task SlowEndpoint_TimesOut()
    {
        // A server of its own: under load the abandoned request can reach it after this test, and must not land in the next one's.
        await using var server = (await FakeOpenAiServer.StartAsync()).Otherwise(FakeReply.Say("late") with { Latency = TimeSpan.FromSeconds(5) });
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions { BaseUrl = server.BaseUrl, Model = "m", MaxRetries = 0, Timeout = TimeSpan.FromMilliseconds(300) });

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct));

        Assert.Equal("the model endpoint did not answer in time", failure.Message);
        Assert.True(failure.TimedOut);
    }

    [Fact]
    public async Task BrokenStream_BecomesAModelEndpointException()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("this will break") with { ChunkSize = 2, BreakAfterChunks = 2 });
        using var client = TestServices.Client(server);

        await Assert.ThrowsAsync<ModelEndpointException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct))
            {
                Assert.NotNull(update);
            }
        });
    }

    [Fact]
    public async Task AStreamThatEndsWithoutAFinishReason_BecomesAModelEndpointException()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("this answer stops half way") with { ChunkSize = 4, EndAfterChunks = 3 });
        using var client = TestServices.Client(server);
        var received = new StringBuilder();

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct))
            {
                received.Append(update.Text);
            }
        });
        Assert.Equal("this ans", received.ToString());
        Assert.Contains("ended before the answer was finished", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerCancellation_IsNotWrapped()
    {
        // A server of its own, as for the timeout above.
        await using var server = (await FakeOpenAiServer.StartAsync()).Otherwise(FakeReply.Say("late") with { Latency = TimeSpan.FromSeconds(5) });
        using var client = TestServices.Client(server);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: cancellation.Token));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AResponseOrAStreamedLinePastTheHandlersCap_BecomesAModelEndpointException(bool streaming)
    {
        // One streamed chunk (one line) carries the whole text, as a server sending one endless line would.
        var server = model.Fresh().Otherwise(FakeReply.Say(new string('x', 20_000)) with { ChunkSize = 20_000 });
        using var limited = new HttpClient(new ResponseSizeLimit(10_000) { InnerHandler = new SocketsHttpHandler() });
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
        {
            BaseUrl = server.BaseUrl, ApiKey = "sk-test", Model = "fake-default", MaxRetries = 0, HttpClient = limited,
        });

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(async () =>
        {
            if (!streaming)
            {
                await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct);
                return;
            }

            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct))
            {
                Assert.NotNull(update);
            }
        });
        Assert.Contains("10000 bytes", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AStreamUnderTheHandlersCapPerLine_IsReadWhole()
    {
        var text = string.Concat(Enumerable.Repeat("word ", 4_000));
        var server = model.Fresh().Otherwise(FakeReply.Say(text) with { ChunkSize = 100 });
        using var limited = new HttpClient(new ResponseSizeLimit(10_000) { InnerHandler = new SocketsHttpHandler() });
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
        {
            BaseUrl = server.BaseUrl, ApiKey = "sk-test", Model = "fake-default", MaxRetries = 0, HttpClient = limited,
        });

        var received = new StringBuilder();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct))
        {
            received.Append(update.Text);
        }

        Assert.Equal(text, received.ToString());
    }

    [Fact]
    public async Task StreamedToolCallArgumentsPastTheCap_BecomeAModelEndpointException()
    {
        var arguments = $$"""{"query":"{{new string('q', 50_000)}}"}""";
        var server = model.Fresh().Otherwise(FakeReply.Call("lookup", arguments) with { ArgumentChunkSize = 1_000 });
        using var client = new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
        {
            BaseUrl = server.BaseUrl, ApiKey = "sk-test", Model = "fake-default", MaxRetries = 0, MaxToolCallArgumentBytes = 20_000,
        });

        var failure = await Assert.ThrowsAsync<ModelEndpointException>(async () =>
        {
            await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { Tools = [new ProbeTool()] }, Ct))
            {
                Assert.NotNull(update);
            }
        });
        Assert.Contains("20000 bytes", failure.Message, StringComparison.Ordinal);
    }

    sealed class ProbeTool : AIFunctionDeclaration
    {
        public override string Name => "lookup";

        public override string Description => "Looks something up.";

        public override JsonElement JsonSchema { get; } = JsonDocument.Parse("""{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"}},"required":["query"]}""").RootElement;
    }
}
