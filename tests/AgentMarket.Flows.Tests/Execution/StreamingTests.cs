using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Langflow;
using AgentMarket.Flows.Models;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Flows.Values;
using AgentMarket.Testing.FakeOpenAi;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>Streaming runs: event order, token events from the model node, and the final end/error event.</summary>
public class StreamingTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    static async Task<List<RunEvent>> CollectAsync(IAsyncEnumerable<RunEvent> events)
    {
        var list = new List<RunEvent>();
        await foreach (var runEvent in events)
        {
            list.Add(runEvent);
        }

        return list;
    }

    [Fact]
    public async Task BasicPrompting_Streams_UserMessageThenFirstChunkThenTokensThenEnd()
    {
        var server = model.Fresh().When("Hi", FakeReply.Say("Hello there, friend!") with { ChunkSize = 6 });

        var events = await CollectAsync(FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Hi", SessionId = "s" },
            TestServices.Create(TestServices.Client(server)),
            Ct));

        var langflow = events.Select(LangflowStreamEvents.ToPayload).OfType<JsonObject>().ToList();
        Assert.Equal(["add_message", "add_message", "token", "token", "token", "end"], langflow.Select(payload => (string?)payload["event"]));
        Assert.Equal("Hi", (string?)langflow[0]["data"]!["text"]);
        Assert.Equal("User", (string?)langflow[0]["data"]!["sender"]);
        var aiMessage = langflow[1]["data"]!;
        Assert.Equal(("Hello ", "Machine", "partial"), ((string?)aiMessage["text"], (string?)aiMessage["sender"], (string?)aiMessage["properties"]!["state"]));
        var messageId = (string?)aiMessage["id"];
        Assert.NotNull(messageId);
        Assert.All(langflow.Skip(2).Take(3), token => Assert.Equal(messageId, (string?)token["data"]!["id"]));
        Assert.Equal(["there,", " frien", "d!"], langflow.Skip(2).Take(3).Select(token => (string?)token["data"]!["chunk"]));
        Assert.Equal("Hello there, friend!", (string?)langflow[5]["data"]!["result"]!["outputs"]![0]!["outputs"]![0]!["results"]!["message"]!["text"]);
        Assert.True(Assert.Single(server.Requests).Stream);
        Assert.True(server.Requests[0].IncludeUsage);
        Assert.IsType<RunStarted>(events[0]);
        Assert.IsType<RunCompleted>(events[^1]);
    }

    [Fact]
    public async Task StreamedAnswer_IsStoredOnceWithItsFullText()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("A streamed answer.") with { ChunkSize = 3 });
        var messages = new Services.InMemoryMessageStore();

        var events = await CollectAsync(FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Go", SessionId = "s" },
            TestServices.Create(TestServices.Client(server), messages),
            Ct));

        var result = Assert.IsType<RunCompleted>(events[^1]).Result;
        Assert.Equal("A streamed answer.", result.OutputText);
        Assert.Equal(["Go", "A streamed answer."], messages.Snapshot().Select(message => message.Text));
        Assert.Equal("complete", messages.Snapshot()[1].Properties.State);
        var answer = Assert.IsType<Message>(Assert.Single(Assert.Single(result.Outputs).Values).Value);
        Assert.Equal(messages.Snapshot()[1].Id, answer.Id);
    }

    [Fact]
    public async Task NonStreamingRun_DoesNotStreamTheModel()
    {
        var server = model.Fresh();

        await FlowEngine.Default.RunAsync(Examples.Plan(Examples.BasicPrompting), new RunRequest { InputValue = "Hi" }, TestServices.Create(TestServices.Client(server)), Ct);

        Assert.False(Assert.Single(server.Requests).Stream);
    }

    [Fact]
    public async Task StreamTweakFalse_OverridesTheStreamingRequest()
    {
        var server = model.Fresh();
        var tweaks = System.Text.Json.JsonDocument.Parse("""{"stream": false}""").RootElement;

        var events = await CollectAsync(FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Hi", Tweaks = tweaks },
            TestServices.Create(TestServices.Client(server)),
            Ct));

        Assert.False(Assert.Single(server.Requests).Stream);
        Assert.DoesNotContain(events, runEvent => runEvent is TokenEmitted);
    }

    [Fact]
    public async Task FailingRun_EndsWithAnErrorEventInsteadOfEnd()
    {
        var server = model.Fresh().Otherwise(FakeReply.Fail(500));

        var events = await CollectAsync(FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Hi" },
            TestServices.Create(TestServices.Client(server)),
            Ct));

        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Equal(RunErrorCodes.ModelError, failed.Result.Error?.Code);
        var payload = LangflowStreamEvents.ToPayload(failed)!;
        Assert.Equal("error", (string?)payload["event"]);
        Assert.StartsWith("Error running graph: Error building Component Language Model: \n\nThe model endpoint failed: the model endpoint answered HTTP 500", (string?)payload["data"]!["error"], StringComparison.Ordinal);
        Assert.DoesNotContain(events, runEvent => runEvent is RunCompleted);
    }

    [Fact]
    public async Task ARateLimitingOrSlowModel_FailsTheRunWithItsOwnCode_AndTheEndpointsRetryAfter()
    {
        var limited = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.BasicPrompting), new RunRequest { InputValue = "Hi" },
            TestServices.Create(new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
            {
                BaseUrl = model.Fresh().Otherwise(FakeReply.Fail(429) with { RetryAfterSeconds = 9 }).BaseUrl, Model = "m", MaxRetries = 0,
            })), Ct);
        Assert.Equal((RunErrorCodes.ModelRateLimited, TimeSpan.FromSeconds(9)), (limited.Error?.Code, limited.Error?.RetryAfter));

        // A server of its own: under load the abandoned request can reach it after this test, and must not land in the next one's.
        await using var slowServer = (await FakeOpenAiServer.StartAsync()).Otherwise(FakeReply.Say("late") with { Latency = TimeSpan.FromSeconds(5) });
        var slow = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.BasicPrompting), new RunRequest { InputValue = "Hi" },
            TestServices.Create(new OpenAiCompatibleChatClient(new OpenAiCompatibleChatClientOptions
            {
                BaseUrl = slowServer.BaseUrl, Model = "m", MaxRetries = 0, Timeout = TimeSpan.FromMilliseconds(300),
            })), Ct);
        Assert.Equal((RunErrorCodes.ModelTimeout, null), (slow.Error?.Code, slow.Error?.RetryAfter));
    }

    [Fact]
    public async Task BrokenModelStream_FailsTheRunWithModelError()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("This answer will break off.") with { ChunkSize = 2, BreakAfterChunks = 3 });

        var events = await CollectAsync(FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Hi", SessionId = "s" },
            TestServices.Create(TestServices.Client(server)),
            Ct));

        var failed = Assert.IsType<RunFailed>(events[^1]);
        Assert.Equal(RunErrorCodes.ModelError, failed.Result.Error?.Code);
        Assert.Contains(events, runEvent => runEvent is MessageAdded { Message.Sender: MessageSenders.Machine });
    }

    [Fact]
    public async Task DisposingTheStream_CancelsTheRun()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say(new string('x', 400)) with { ChunkSize = 1, ChunkDelay = TimeSpan.FromMilliseconds(20) });
        var messages = new Services.InMemoryMessageStore();
        var started = DateTime.UtcNow;

        await foreach (var runEvent in FlowEngine.Default.StreamAsync(
            Examples.Plan(Examples.BasicPrompting),
            new RunRequest { InputValue = "Hi", SessionId = "s" },
            TestServices.Create(TestServices.Client(server), messages),
            Ct))
        {
            if (runEvent is TokenEmitted)
            {
                break;
            }
        }

        // 400 chunks at 20 ms would take 8 s; leaving the loop stopped the run, and the enumerator waited for it.
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(4));
        Assert.DoesNotContain(messages.Snapshot(), message => message.Properties.State == "complete" && message.Sender == MessageSenders.Machine);
    }
}
