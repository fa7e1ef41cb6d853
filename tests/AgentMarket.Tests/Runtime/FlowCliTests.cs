using AgentMarket.Runtime.Cli;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Runtime;

/// <summary>The sellers' command line (`dotnet run --project src/AgentMarket -- flow …`), run in-process on the shared examples.</summary>
[Collection(nameof(EnvironmentVariables))]
public class FlowCliTests
{
    static string Example(string name) => Path.Combine(Repo.Shared, "examples", "langflow", name);

    static async Task<(int Exit, string Out, string Error)> CliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exit = await FlowCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    [Theory]
    [InlineData("simple_chat_no_llm.json", 0)]
    [InlineData("SimpleAPITest.json", 0)]
    [InlineData("MemoryChatbotNoLLM.json", 0)]
    [InlineData("Basic Prompting.json", 0)]
    [InlineData("Memory Chatbot.json", 0)]
    [InlineData("Document Q&A.json", 0)]
    [InlineData("Financial Report Parser.json", 0)]
    [InlineData("Simple Agent.json", 0)]
    [InlineData("Vector Store RAG.json", 0)]
    [InlineData("LoopTest.json", 1)]
    [InlineData("BasicChatwithPromptandHistory.json", 1)]
    public async Task Validate_EveryExample_ExitsZeroOnlyWhenRunnable(string file, int exit)
    {
        var (code, output, _) = await CliAsync("validate", Example(file));
        Assert.Equal(exit, code);
        Assert.Contains(exit == 0 ? ": runnable." : ": NOT runnable.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_Json_IsTheMachineReadableReport()
    {
        var (code, output, _) = await CliAsync("validate", Example("LoopTest.json"), "--json");
        Assert.Equal(1, code);
        using var report = System.Text.Json.JsonDocument.Parse(output);
        Assert.False(report.RootElement.GetProperty("runnable").GetBoolean());
        Assert.Contains(report.RootElement.GetProperty("issues").EnumerateArray(), i => i.GetProperty("code").GetString() == "custom_code");
    }

    [Fact]
    public async Task Run_WithoutAModel_EchoesTheMessage_OnStandardOutput()
    {
        var (code, output, _) = await CliAsync("run", Example("simple_chat_no_llm.json"), "hello from the CLI");
        Assert.Equal(0, code);
        Assert.Equal("hello from the CLI", output.Trim());
    }

    [Fact]
    public async Task Run_BasicPrompting_AgainstAnOpenAiCompatibleEndpoint_FromConfiguration()
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.When("capital of France", FakeReply.Say("Paris."));
        using (new EnvironmentVariables(("Llm__BaseUrl", model.BaseUrl.ToString()), ("Llm__ApiKey", "test-key"), ("Llm__Model", "fake-model")))
        {
            var (code, output, error) = await CliAsync("run", Example("Basic Prompting.json"), "What is the capital of France?");
            Assert.True(code == 0, error);
            Assert.Equal("Paris.", output.Trim());
        }
        var request = Assert.Single(model.Requests);
        Assert.Equal("What is the capital of France?", request.LastUser);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_AgainstAnEndpointReportingNoUsage_PrintsEstimatedTokens_NotZero(bool stream)
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.When("capital of France", FakeReply.Say("Paris is the capital of France.") with { NoUsage = true });
        using (new EnvironmentVariables(("Llm__BaseUrl", model.BaseUrl.ToString()), ("Llm__ApiKey", "test-key"), ("Llm__Model", "fake-model")))
        {
            var (code, output, error) = await CliAsync(["run", Example("Basic Prompting.json"), "What is the capital of France?", .. stream ? ["--stream"] : Array.Empty<string>()]);
            Assert.True(code == 0, error);
            Assert.Equal("Paris is the capital of France.", output.Trim());
            var tokens = Assert.Single(error.Split('\n'), line => line.StartsWith("Tokens:", StringComparison.Ordinal));
            Assert.EndsWith("output, estimated from the text: the model endpoint reported none.", tokens.TrimEnd(), StringComparison.Ordinal);
            Assert.DoesNotContain("Tokens: 0 input", tokens, StringComparison.Ordinal);
            Assert.DoesNotContain(" 0 output", tokens, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Run_Json_AgainstAnEndpointReportingNoUsage_RecordsEstimatedTokens()
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.When("capital of France", FakeReply.Say("Paris is the capital of France.") with { NoUsage = true });
        using (new EnvironmentVariables(("Llm__BaseUrl", model.BaseUrl.ToString()), ("Llm__ApiKey", "test-key"), ("Llm__Model", "fake-model")))
        {
            var (code, output, error) = await CliAsync("run", Example("Basic Prompting.json"), "What is the capital of France?", "--json");
            Assert.True(code == 0, error);
            using var run = System.Text.Json.JsonDocument.Parse(output);
            Assert.Equal("estimated", run.RootElement.GetProperty("usage_source").GetString());
            Assert.True(run.RootElement.GetProperty("input_tokens").GetInt64() > 0, output);
            Assert.True(run.RootElement.GetProperty("output_tokens").GetInt64() > 0, output);
            var modelNode = Assert.Single(run.RootElement.GetProperty("nodes").EnumerateArray(), node => node.GetProperty("model_calls").GetInt32() > 0);
            Assert.Equal("estimated", modelNode.GetProperty("usage_source").GetString());
        }
    }

    [Fact]
    public async Task Run_AgainstAnEndpointReportingUsage_PrintsTheReportedNumbers()
    {
        await using var model = await FakeOpenAiServer.StartAsync();
        model.When("capital of France", FakeReply.Say("Paris.") with { Usage = (42, 7) });
        using (new EnvironmentVariables(("Llm__BaseUrl", model.BaseUrl.ToString()), ("Llm__ApiKey", "test-key"), ("Llm__Model", "fake-model")))
        {
            var (code, _, error) = await CliAsync("run", Example("Basic Prompting.json"), "What is the capital of France?");
            Assert.True(code == 0, error);
            Assert.Contains("Tokens: 42 input, 7 output, as the model endpoint reported them.", error, StringComparison.Ordinal);

            var (jsonCode, output, jsonError) = await CliAsync("run", Example("Basic Prompting.json"), "What is the capital of France?", "--json");
            Assert.True(jsonCode == 0, jsonError);
            using var run = System.Text.Json.JsonDocument.Parse(output);
            Assert.Equal(42, run.RootElement.GetProperty("input_tokens").GetInt64());
            Assert.Equal(7, run.RootElement.GetProperty("output_tokens").GetInt64());
            Assert.Equal("reported", run.RootElement.GetProperty("usage_source").GetString());
        }
    }

    [Fact]
    public async Task Run_MissingFile_ExitsWithTwo_AndSaysWhy()
    {
        var (code, _, error) = await CliAsync("run", "/no/such/flow.json", "hi");
        Assert.Equal(2, code);
        Assert.Contains("/no/such/flow.json", error, StringComparison.Ordinal);
    }
}

/// <summary>Sets environment variables for a test and restores them; tests using it never run in parallel.</summary>
[CollectionDefinition(nameof(EnvironmentVariables), DisableParallelization = true)]
public sealed class EnvironmentVariables : IDisposable
{
    readonly (string Name, string? Previous)[] _previous;

    public EnvironmentVariables() => _previous = [];

    public EnvironmentVariables(params (string Name, string Value)[] variables)
    {
        _previous = variables.Select(v => (v.Name, Environment.GetEnvironmentVariable(v.Name))).ToArray();
        foreach (var (name, value) in variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach (var (name, previous) in _previous)
        {
            Environment.SetEnvironmentVariable(name, previous);
        }
    }
}
