using System.Diagnostics;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Tests.Support;
using static AgentMarket.Flows.Tests.Support.TestFlow;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>The ready-queue scheduler: real overlap without barriers, dead-path routing, first failure stops the run.</summary>
public class SchedulerTests
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    static Field Delay(int milliseconds) => new("milliseconds", milliseconds, "int", []);

    static ExecutionPlan Compile(TestFlow flow)
    {
        var compiled = TestComponents.Engine.Compile(flow.Json());
        return compiled.Plan ?? throw new InvalidOperationException(compiled.Report.ToText());
    }

    static Task<RunResult> RunAsync(ExecutionPlan plan, string input = "x", CancellationToken? cancellation = null) =>
        TestComponents.Engine.RunAsync(plan, new RunRequest { InputValue = input }, TestServices.Create() with { Time = TimeProvider.System }, cancellation ?? Ct);

    static TestFlow Fork(int leftMs, int rightMs, string rightType = "Delay") => new TestFlow()
        .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
        .Node("Left", "Delay", "Left", fields: [Text("input_value"), Delay(leftMs)])
        .Node("Right", rightType, "Right", fields: [Text("input_value"), Delay(rightMs)])
        .Node("CombineText-1", "CombineText", outputs: ["combined_text"], fields: [Text("text1"), Text("text2"), Text("delimiter", "+")])
        .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
        .Edge("ChatInput-1", "message", "Left", "input_value")
        .Edge("ChatInput-1", "message", "Right", "input_value")
        .Edge("Left", "message", "CombineText-1", "text1")
        .Edge("Right", "message", "CombineText-1", "text2")
        .Edge("CombineText-1", "combined_text", "ChatOutput-1", "input_value");

    [Fact]
    public async Task IndependentBranches_Overlap()
    {
        var plan = Compile(Fork(300, 300));
        var watch = Stopwatch.StartNew();

        var result = await RunAsync(plan);

        Assert.Equal("Left(x)+Right(x)", result.OutputText);
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(550), $"Two 300 ms branches took {watch.Elapsed.TotalMilliseconds} ms: they did not overlap.");
    }

    [Fact]
    public async Task ANodeStartsWhenItsOwnInputsAreReady_NotAtALayerBarrier()
    {
        var plan = Compile(new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
            .Node("Fast", "Delay", "Fast", fields: [Text("input_value"), Delay(10)])
            .Node("AfterFast", "Delay", "AfterFast", fields: [Text("input_value")])
            .Node("Slow", "Delay", "Slow", fields: [Text("input_value"), Delay(400)])
            .Node("CombineText-1", "CombineText", outputs: ["combined_text"], fields: [Text("text1"), Text("text2"), Text("delimiter", "+")])
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("ChatInput-1", "message", "Fast", "input_value")
            .Edge("Fast", "message", "AfterFast", "input_value")
            .Edge("ChatInput-1", "message", "Slow", "input_value")
            .Edge("AfterFast", "message", "CombineText-1", "text1")
            .Edge("Slow", "message", "CombineText-1", "text2")
            .Edge("CombineText-1", "combined_text", "ChatOutput-1", "input_value"));

        var result = await RunAsync(plan);

        var afterFast = result.Nodes.Single(node => node.NodeId == "AfterFast");
        var slow = result.Nodes.Single(node => node.NodeId == "Slow");
        Assert.Equal("AfterFast(Fast(x))+Slow(x)", result.OutputText);
        Assert.True(afterFast.StartedAt + afterFast.Duration < slow.StartedAt + slow.Duration - TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task FirstFailure_StopsTheRunAndCancelsRunningSiblings()
    {
        var plan = Compile(Fork(5000, 50, rightType: "Fail"));
        var watch = Stopwatch.StartNew();

        var result = await RunAsync(plan);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "The failure did not cancel the 5 s sibling.");
        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(("test_failure", "Right", "Right"), (result.Error?.Code, result.Error?.NodeId, result.Error?.DisplayName));
        Assert.Equal(NodeRunStatus.Canceled, result.Nodes.Single(node => node.NodeId == "Left").Status);
        Assert.DoesNotContain(result.Nodes, node => node.NodeId is "CombineText-1" or "ChatOutput-1");
        Assert.Empty(result.Outputs);
    }

    [Fact]
    public async Task Cancellation_StopsTheRunPromptly()
    {
        var plan = Compile(Fork(5000, 5000));
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancellation.CancelAfter(100);
        var watch = Stopwatch.StartNew();

        var result = await RunAsync(plan, cancellation: cancellation.Token);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2));
        Assert.Equal(RunStatus.Canceled, result.Status);
        Assert.Equal(RunErrorCodes.Canceled, result.Error?.Code);
        Assert.All(result.Nodes.Where(node => node.NodeId is "Left" or "Right"), node => Assert.Equal(NodeRunStatus.Canceled, node.Status));
    }

    /// <summary>Chat Input → If-Else → (true) Prompt T / (false) Prompt F → one shared Chat Output, plus one output per branch.</summary>
    static ExecutionPlan Router() => Compile(new TestFlow()
        .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
        .Node("ConditionalRouter-1", "ConditionalRouter", "If-Else", ["true_result", "false_result"],
            Text("input_text"), Text("match_text", "yes"), Text("operator", "equals"), new Field("case_sensitive", false, "bool", []))
        .Node("Prompt-T", "Prompt", "True branch", ["prompt"], new Field("template", "T: {x}", "prompt", []), Text("x"))
        .Node("Prompt-F", "Prompt", "False branch", ["prompt"], new Field("template", "F: {x}", "prompt", []), Text("x"))
        .Node("ChatOutput-shared", "ChatOutput", fields: ChatOutputFields)
        .Node("ChatOutput-T", "ChatOutput", fields: ChatOutputFields)
        .Edge("ChatInput-1", "message", "ConditionalRouter-1", "input_text")
        .Edge("ConditionalRouter-1", "true_result", "Prompt-T", "x")
        .Edge("ConditionalRouter-1", "false_result", "Prompt-F", "x")
        .Edge("Prompt-T", "prompt", "ChatOutput-shared", "input_value")
        .Edge("Prompt-F", "prompt", "ChatOutput-shared", "input_value")
        .Edge("Prompt-T", "prompt", "ChatOutput-T", "input_value"));

    [Theory]
    [InlineData("YES", "T: YES", NodeRunStatus.Skipped)]
    [InlineData("no", "F: no", NodeRunStatus.Succeeded)]
    public async Task Router_TheUnchosenBranchIsSkipped_AndAMergeRunsOnceFromTheLiveOne(string input, string shared, NodeRunStatus falseBranch)
    {
        var result = await RunAsync(Router(), input);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        var sharedRuns = result.Nodes.Where(node => node.NodeId == "ChatOutput-shared").ToList();
        Assert.Equal(NodeRunStatus.Succeeded, Assert.Single(sharedRuns).Status);
        Assert.Equal(shared, result.Outputs.Single(output => output.NodeId == "ChatOutput-shared").Values[0].Value is Values.Message message ? message.Text : null);
        Assert.Equal(falseBranch, result.Nodes.Single(node => node.NodeId == "Prompt-F").Status);
        var trueOutput = result.Nodes.Single(node => node.NodeId == "ChatOutput-T").Status;
        Assert.Equal(falseBranch == NodeRunStatus.Skipped ? NodeRunStatus.Succeeded : NodeRunStatus.Skipped, trueOutput);
    }

    [Fact]
    public async Task OnlyThePartOfTheGraphTheStartNodeReaches_Runs()
    {
        var plan = Compile(new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Node("TextInput-lonely", "TextInput", outputs: ["text"], fields: [Text("input_value", "t")])
            .Node("TextOutput-lonely", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Edge("ChatInput-1", "message", "ChatOutput-1", "input_value")
            .Edge("TextInput-lonely", "text", "TextOutput-lonely", "input_value"));

        var result = await RunAsync(plan);

        Assert.Equal(["ChatInput-1", "ChatOutput-1"], result.Nodes.Select(node => node.NodeId));
        Assert.Contains(plan.Report.Issues, issue => issue.Code == "not_run_via_api" && issue.Message.Contains("TextInput-lonely", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAChatInput_EveryNodeRuns()
    {
        var plan = Compile(new TestFlow()
            .Node("TextInput-a", "TextInput", outputs: ["text"], fields: [Text("input_value", "a")])
            .Node("TextOutput-a", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Node("TextInput-b", "TextInput", outputs: ["text"], fields: [Text("input_value", "b")])
            .Node("TextOutput-b", "TextOutput", outputs: ["text"], fields: [Text("input_value")])
            .Edge("TextInput-a", "text", "TextOutput-a", "input_value")
            .Edge("TextInput-b", "text", "TextOutput-b", "input_value"));

        var result = await TestComponents.Engine.RunAsync(plan, new RunRequest { InputValue = "typed", InputType = "text", OutputType = "text" }, TestServices.Create(), Ct);

        Assert.Equal(4, result.Nodes.Length);
        Assert.Equal(["typed", "typed"], result.Outputs.Select(output => ((Values.Message)output.Values[0].Value!).Text));
    }
}
