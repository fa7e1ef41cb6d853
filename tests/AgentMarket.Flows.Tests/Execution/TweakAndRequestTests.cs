using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using static AgentMarket.Flows.Tests.Support.TestFlow;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>Tweaks (format §5), input and output selection (§3.2, §3.5).</summary>
public class TweakAndRequestTests
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    /// <summary>Chat Input → two Prompts both named "Prompt" → Combine Text → Chat Output.</summary>
    static Compilation.ExecutionPlan TwoPrompts(Field? delimiter = null)
    {
        var json = new TestFlow()
            .Node("ChatInput-1", "ChatInput", "Chat Input", fields: ChatInputFields)
            .Node("Prompt-a", "Prompt", "Prompt", ["prompt"], new Field("template", "A: {q}", "prompt", []), Text("q"))
            .Node("Prompt-b", "Prompt", "Prompt", ["prompt"], new Field("template", "B: {q}", "prompt", []), Text("q"), Text("hidden_var", "h") with { Show = false })
            .Node("CombineText-1", "CombineText", "Combine Text", ["combined_text"], Text("text1"), Text("text2"), delimiter ?? Text("delimiter", " | "))
            .Node("ChatOutput-1", "ChatOutput", "Chat Output", fields: ChatOutputFields)
            .Edge("ChatInput-1", "message", "Prompt-a", "q")
            .Edge("ChatInput-1", "message", "Prompt-b", "q")
            .Edge("Prompt-a", "prompt", "CombineText-1", "text1")
            .Edge("Prompt-b", "prompt", "CombineText-1", "text2")
            .Edge("CombineText-1", "combined_text", "ChatOutput-1", "input_value")
            .Json();
        return FlowEngine.Default.Compile(json).Plan!;
    }

    static async Task<RunResult> RunAsync(Compilation.ExecutionPlan plan, string? tweaks, string? input = "hi", FlowServices? services = null, string inputType = "chat") =>
        await FlowEngine.Default.RunAsync(
            plan,
            new RunRequest { InputValue = input, InputType = inputType, Tweaks = tweaks is null ? null : JsonDocument.Parse(tweaks).RootElement },
            services ?? TestServices.Create(),
            Ct);

    [Theory]
    [InlineData(null, "A: hi | B: hi")]
    [InlineData("""{"Prompt": {"template": "X: {q}"}}""", "A: hi | X: hi")]
    [InlineData("""{"Prompt-a": {"template": "Y: {q}"}}""", "Y: hi | B: hi")]
    [InlineData("""{"delimiter": " + "}""", "A: hi + B: hi")]
    [InlineData("""{"CombineText-1": {"delimiter": {"value": " ~ "}}}""", "A: hi ~ B: hi")]
    [InlineData("""{"Combine Text": {"delimiter": "/"}}""", "A: hi/B: hi")]
    [InlineData("""{"Prompt-a": {"code": "import os; os.system('rm -rf /')"}}""", "A: hi | B: hi")]
    [InlineData("""{"No-Such-Node": {"template": "Z"}, "no_such_field": 1}""", "A: hi | B: hi")]
    // A hidden field is not passed to the component, so neither its value nor a tweak of it reaches the template.
    [InlineData("""{"Prompt-b": {"template": "{hidden_var}", "hidden_var": "shown"}}""", "A: hi | ")]
    [InlineData("""{"ChatInput-1": {"should_store_message": false}, "Prompt-a": {"template": "{q}!"}}""", "hi! | B: hi")]
    public async Task Tweaks_FollowLangflowsRules(string? tweaks, string expected)
    {
        var result = await RunAsync(TwoPrompts(), tweaks);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(expected, result.OutputText);
    }

    [Fact]
    public async Task Tweaks_DoNotChangeThePlanForLaterRuns()
    {
        var plan = TwoPrompts();

        await RunAsync(plan, """{"Prompt-a": {"template": "changed {q}"}, "delimiter": "#"}""");
        var after = await RunAsync(plan, null);

        Assert.Equal("A: hi | B: hi", after.OutputText);
    }

    [Fact]
    public async Task LoadFromDbField_ResolvesItsGlobalVariableThroughTheSecrets()
    {
        var plan = TwoPrompts(Text("delimiter", "DELIMITER_VARIABLE") with { LoadFromDb = true });
        var services = TestServices.Create() with { Secrets = new DictionarySecretResolver([new("DELIMITER_VARIABLE", " :: "), new("OTHER", " ## ")]) };

        Assert.Equal(["DELIMITER_VARIABLE"], plan.Report.RequiredSecrets);
        Assert.Equal("A: hi :: B: hi", (await RunAsync(plan, null, services: services)).OutputText);
        Assert.Equal("A: hi ## B: hi", (await RunAsync(plan, """{"CombineText-1": {"delimiter": "OTHER"}}""", services: services)).OutputText);
        Assert.Equal("A: hi-B: hi", (await RunAsync(plan, """{"CombineText-1": {"delimiter": {"value": "-", "load_from_db": false}}}""", services: services)).OutputText);
        Assert.Equal("A: hiB: hi", (await RunAsync(plan, """{"CombineText-1": {"delimiter": "MISSING"}}""", services: services)).OutputText);
    }

    [Theory]
    [InlineData("""{"ChatInput-1": {"input_value": "tweaked"}}""")]
    [InlineData("""{"Chat Input": {"input_value": "tweaked"}}""")]
    public async Task InputValueWithASameNameTweak_IsRefusedAsLangflowDoes(string tweaks)
    {
        var result = await RunAsync(TwoPrompts(), tweaks);

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal(RunErrorCodes.TweakConflictsWithInput, result.Error?.Code);
        Assert.Equal("If you pass an input_value to the chat input, you cannot pass a tweak with the same name.", result.Error?.Message);
    }

    [Fact]
    public async Task InputValueTweak_WithoutRequestInput_IsUsed()
    {
        var result = await RunAsync(TwoPrompts(), """{"ChatInput-1": {"input_value": "tweaked"}}""", input: null);

        Assert.Equal("A: tweaked | B: tweaked", result.OutputText);
    }

    [Fact]
    public async Task NullInputValue_LeavesTheInputAtItsConfiguredValue()
    {
        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.SimpleApiTest), new RunRequest { InputType = "text" }, TestServices.Create(), Ct);

        Assert.Equal(("", "AI"), (result.OutputText, ((Values.Message)result.Outputs[0].Values[0].Value!).SenderName));
    }

    [Theory]
    [InlineData("debug", null, new[] { "ChatInput-1", "Prompt-a", "Prompt-b", "CombineText-1", "ChatOutput-1" })]
    [InlineData("chat", null, new[] { "ChatOutput-1" })]
    [InlineData("any", null, new[] { "ChatOutput-1" })]
    [InlineData("text", null, new string[0])]
    [InlineData("chat", "Prompt-a", new[] { "Prompt-a" })]
    [InlineData("chat", "Combine Text", new[] { "CombineText-1" })]
    [InlineData("chat", "Prompt", new[] { "Prompt-a", "Prompt-b" })]
    [InlineData("chat", "Nothing", new string[0])]
    public async Task OutputTypeAndOutputComponent_ChooseTheReturnedNodes(string outputType, string? outputComponent, string[] expected)
    {
        var result = await FlowEngine.Default.RunAsync(
            TwoPrompts(),
            new RunRequest { InputValue = "hi", OutputType = outputType, OutputComponent = outputComponent },
            TestServices.Create(),
            Ct);

        Assert.Equal(expected, result.Outputs.Select(output => output.NodeId));
    }

    [Fact]
    public async Task SessionId_DefaultsToTheFlowId_AndIsWrittenIntoSessionAwareNodes()
    {
        var messages = new InMemoryMessageStore();

        var result = await FlowEngine.Default.RunAsync(Examples.Plan(Examples.MemoryChatbotNoLlm), new RunRequest { InputValue = "hi" }, TestServices.Create(messages: messages), Ct);

        Assert.Equal("76f4de62-4bb6-4681-b90f-7be832cd9818", result.SessionId);
        Assert.All(messages.Snapshot(), message => Assert.Equal("76f4de62-4bb6-4681-b90f-7be832cd9818", message.SessionId));
        Assert.Equal(2, messages.Snapshot().Count);
    }

    [Fact]
    public async Task FlowIdGivenAtCompile_ReplacesTheExportsId()
    {
        var plan = Examples.Plan(Examples.SimpleChatNoLlm, flowId: "agent-version-7");

        var result = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "hi" }, TestServices.Create(), Ct);

        Assert.Equal("agent-version-7", result.SessionId);
        Assert.Equal("agent-version-7", ((Values.Message)result.Outputs[0].Values[0].Value!).FlowId);
    }
}
