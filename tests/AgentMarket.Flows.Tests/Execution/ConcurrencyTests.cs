using System.Text.Json;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Langflow;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Testing.FakeOpenAi;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>One plan shared by 64 concurrent runs with different tweaks and sessions (guards against Langflow #4422 and #10392).</summary>
public class ConcurrencyTests(FakeModel model) : IClassFixture<FakeModel>
{
    const int Runs = 64;
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    [Fact]
    public async Task SixtyFourParallelRuns_EqualTheirSequentialRuns()
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("answer") with { Latency = TimeSpan.FromMilliseconds(5) });
        var memoryPlan = Examples.Plan(Examples.MemoryChatbotNoLlm);
        var modelPlan = Examples.Plan(Examples.BasicPrompting);
        var reportBefore = memoryPlan.Report.ToJson();

        async Task<string> ConversationAsync(int index, FlowServices services)
        {
            // Each conversation: two turns in its own session, a per-run tweak on the prompt, then a model call.
            var tweaks = JsonDocument.Parse($$$"""{"Prompt-VSSGR": {"template": "#{{{index}}} {context}|{user_message}"}}""").RootElement;
            var first = await FlowEngine.Default.RunAsync(memoryPlan, new RunRequest { InputValue = $"hello {index}", SessionId = $"s{index}", Tweaks = tweaks }, services, Ct);
            var second = await FlowEngine.Default.RunAsync(memoryPlan, new RunRequest { InputValue = $"again {index}", SessionId = $"s{index}", Tweaks = tweaks }, services, Ct);
            var temperature = JsonDocument.Parse($$$"""{"temperature": {{{(index / 100.0).ToString(System.Globalization.CultureInfo.InvariantCulture)}}}}""").RootElement;
            var third = await FlowEngine.Default.RunAsync(modelPlan, new RunRequest { InputValue = $"model {index}", SessionId = $"s{index}", Tweaks = temperature }, services, Ct);
            return string.Join("\n===\n", [.. new[] { first, second, third }.Select(result => LangflowRunResponse.Build(result)["outputs"]![0]!["outputs"]![0]!["results"]!["message"]!["text"]!.GetValue<string>()), second.SessionId]);
        }

        var sequentialServices = TestServices.Create(TestServices.Client(server));
        var sequential = new List<string>();
        for (var index = 0; index < Runs; index++)
        {
            sequential.Add(await ConversationAsync(index, sequentialServices));
        }

        var parallelServices = TestServices.Create(TestServices.Client(server));
        var parallel = await Task.WhenAll(Enumerable.Range(0, Runs).Select(index => Task.Run(() => ConversationAsync(index, parallelServices), Ct)));

        // Timestamps differ between the two passes; everything else must be identical.
        static string WithoutTimestamps(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", "<time>");
        Assert.Equal(sequential.Select(WithoutTimestamps), parallel.Select(WithoutTimestamps));
        Assert.Contains("#5 ", parallel[5], StringComparison.Ordinal);
        Assert.Contains("hello 5", parallel[5], StringComparison.Ordinal);
        Assert.DoesNotContain("hello 6", parallel[5], StringComparison.Ordinal);
        Assert.Equal(reportBefore, memoryPlan.Report.ToJson());

        var temperatures = server.Requests.Select(request => request.Body.GetProperty("temperature").GetDouble()).Order().ToList();
        Assert.Equal(Enumerable.Range(0, Runs).SelectMany(index => new[] { index / 100.0, index / 100.0 }).Order(), temperatures);

        var untweaked = await FlowEngine.Default.RunAsync(memoryPlan, new RunRequest { InputValue = "plain", SessionId = "fresh" }, TestServices.Create(), Ct);
        Assert.Equal("\n\nUser: plain\nAI: ", untweaked.OutputText);
    }
}
