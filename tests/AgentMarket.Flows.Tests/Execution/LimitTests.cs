using System.Net;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static AgentMarket.Flows.Tests.Support.TestFlow;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>Every per-run limit ends the run with LimitExceeded and its own code.</summary>
public class LimitTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    static ExecutionPlan Chain(int delayMs) => TestComponents.Engine.Compile(new TestFlow()
        .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
        .Node("One", "Delay", "One", fields: [Text("input_value"), new Field("milliseconds", delayMs, "int", [])])
        .Node("Two", "Delay", "Two", fields: [Text("input_value")])
        .Node("Three", "Delay", "Three", fields: [Text("input_value")])
        .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
        .Edge("ChatInput-1", "message", "One", "input_value")
        .Edge("One", "message", "Two", "input_value")
        .Edge("Two", "message", "Three", "input_value")
        .Edge("Three", "message", "ChatOutput-1", "input_value")
        .Json()).Plan!;

    static Task<RunResult> RunAsync(ExecutionPlan plan, RunLimits limits, string input = "x") =>
        TestComponents.Engine.RunAsync(plan, new RunRequest { InputValue = input }, TestServices.Create() with { Limits = limits, Time = TimeProvider.System }, Ct);

    [Fact]
    public async Task WallTime_StopsALongRun()
    {
        var result = await RunAsync(Chain(10_000), new RunLimits { WallTime = TimeSpan.FromMilliseconds(200) });

        Assert.Equal(RunStatus.LimitExceeded, result.Status);
        Assert.Equal(RunErrorCodes.WallTimeExceeded, result.Error?.Code);
        Assert.True(result.Duration < TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task NodeExecutions_StopBeforeTheNodeOverTheLimitStarts()
    {
        var result = await RunAsync(Chain(0), new RunLimits { MaxNodeExecutions = 3 });

        Assert.Equal(RunStatus.LimitExceeded, result.Status);
        Assert.Equal((RunErrorCodes.NodeExecutionsExceeded, "Three"), (result.Error?.Code, result.Error?.NodeId));
        Assert.Equal(["ChatInput-1", "One", "Two", "Three"], result.Nodes.Select(node => node.NodeId));
        Assert.DoesNotContain(result.Nodes, node => node.NodeId == "ChatOutput-1");
    }

    [Fact]
    public async Task OutputBytes_LimitTheAnswer()
    {
        var result = await RunAsync(Examples.Plan(Examples.SimpleChatNoLlm), new RunLimits { MaxOutputBytes = 10 }, input: "more than ten bytes");

        Assert.Equal(RunStatus.LimitExceeded, result.Status);
        Assert.Equal(RunErrorCodes.OutputBytesExceeded, result.Error?.Code);
    }

    [Fact]
    public async Task OutputBytes_CountStreamedTokensOnceEvenWhenTheMessageReachesChatOutput()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("0123456789") with { ChunkSize = 2 });
        var services = TestServices.Create(TestServices.Client(server)) with { Limits = new RunLimits { MaxOutputBytes = 10 } };
        RunResult? last = null;

        await foreach (var runEvent in FlowEngine.Default.StreamAsync(Examples.Plan(Examples.BasicPrompting), new RunRequest { InputValue = "x", SessionId = "s" }, services, Ct))
        {
            last = runEvent switch
            {
                RunCompleted completed => completed.Result,
                RunFailed failed => failed.Result,
                _ => last,
            };
        }

        Assert.Equal(RunStatus.Succeeded, last?.Status);
    }

    [Fact]
    public async Task ModelCalls_StopAnAgentThatNeverFinishes()
    {
        var server = model.Fresh().Otherwise(FakeReply.Call("evaluate_expression", """{"expression":"1+1"}"""));
        var services = TestServices.Create(TestServices.Client(server)) with { Limits = new RunLimits { MaxModelCalls = 3 } };

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleAgent), new RunRequest { InputValue = "loop" }, services, Ct);

        Assert.Equal(RunStatus.LimitExceeded, result.Status);
        Assert.Equal((RunErrorCodes.ModelCallsExceeded, "Agent-D0Kx2"), (result.Error?.Code, result.Error?.NodeId));
        Assert.Equal(3, server.Requests.Count);
    }

    [Fact]
    public async Task NodeExecutions_CountTheToolCallsOfAnAgent()
    {
        var server = model.Fresh().Otherwise(FakeReply.Call("evaluate_expression", """{"expression":"1+1"}"""));
        var services = TestServices.Create(TestServices.Client(server)) with { Limits = new RunLimits { MaxNodeExecutions = 8 } };

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleAgent), new RunRequest { InputValue = "loop" }, services, Ct);

        Assert.Equal(RunErrorCodes.NodeExecutionsExceeded, result.Error?.Code);
        // Chat Input, the two tool nodes and the Agent are four executions; four tool calls reach the limit of eight.
        Assert.Equal(4, result.Nodes.Count(node => node.AsTool));
    }

    [Fact]
    public async Task AgentMaxIterations_EndsWithLangChainsAnswer()
    {
        var server = model.Fresh().Otherwise(FakeReply.Call("evaluate_expression", """{"expression":"1+1"}"""));
        var tweaks = System.Text.Json.JsonDocument.Parse("""{"Agent-D0Kx2": {"max_iterations": 2}}""").RootElement;

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleAgent), new RunRequest { InputValue = "loop", Tweaks = tweaks }, TestServices.Create(TestServices.Client(server)), Ct);

        Assert.Equal("Agent stopped due to max iterations.", result.OutputText);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task OutboundRequests_CountEveryFetchIncludingRedirects()
    {
        await using var site = await RedirectingSite.StartAsync();
        var server = model.Fresh()
            .When("fetched", FakeReply.Say("done"))
            .Otherwise(FakeReply.Call("fetch_content", $$"""{"urls":["{{site.Url}}start"]}"""));
        var services = TestServices.Create(TestServices.Client(server)) with
        {
            Outbound = TestServices.LoopbackAllowed,
            Limits = new RunLimits { MaxOutboundRequests = 2 },
        };

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleAgent), new RunRequest { InputValue = "fetch" }, services, Ct);

        Assert.Equal(RunStatus.LimitExceeded, result.Status);
        Assert.Equal(RunErrorCodes.OutboundRequestsExceeded, result.Error?.Code);
    }

    /// <summary>/start redirects to /middle, which redirects to /end.</summary>
    sealed class RedirectingSite(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url => url;

        public static async Task<RedirectingSite> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
            var app = builder.Build();
            app.MapGet("/start", () => Results.Redirect("/middle"));
            app.MapGet("/middle", () => Results.Redirect("/end"));
            app.MapGet("/end", () => Results.Content("fetched", "text/plain"));
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new RedirectingSite(app, address.TrimEnd('/') + "/");
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
