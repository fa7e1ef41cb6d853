using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Tests.Support;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.Extensions.AI;
using static AgentMarket.Flows.Tests.Support.TestFlow;

namespace AgentMarket.Flows.Tests.Execution;

/// <summary>The three model schemas of the exports (format §4.4) reach the host's resolver and the endpoint intact.</summary>
public class ModelSchemaTests(FakeModel model) : IClassFixture<FakeModel>
{
    static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    sealed class RecordingResolver(IChatClient client) : IModelResolver
    {
        public List<ModelSelection> Selections { get; } = [];

        public IChatClient? Resolve(ModelSelection selection)
        {
            Selections.Add(selection);
            return client;
        }
    }

    static TestFlow WithModelNode(string type, params Field[] fields) => new TestFlow()
        .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
        .Node("Model-1", type, "Model", ["text_output"], [Text("input_value"), Text("system_message", "Be brief."), .. fields])
        .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
        .Edge("ChatInput-1", "message", "Model-1", "input_value")
        .Edge("Model-1", "text_output", "ChatOutput-1", "input_value");

    async Task<(RecordingResolver Resolver, RecordedRequest Request, RunResult Result)> RunAsync(TestFlow flow, params KeyValuePair<string, string>[] secrets)
    {
        var server = model.Fresh().Otherwise(FakeReply.Say("ok"));
        var resolver = new RecordingResolver(TestServices.Client(server));
        var services = TestServices.Create() with { Models = resolver, Secrets = new DictionarySecretResolver(secrets) };
        var result = await FlowEngine.Default.RunAsync(FlowEngine.Default.Compile(flow.Json()).Plan!, new RunRequest { InputValue = "hi" }, services, Ct);
        return (resolver, Assert.Single(server.Requests), result);
    }

    [Fact]
    public async Task OpenAIModel_CarriesModelEndpointKeyAndTokenCap()
    {
        var flow = WithModelNode(
            "OpenAIModel",
            Text("model_name", "gpt-4.1-mini"),
            Text("openai_api_base", "https://llm.example.com/v1"),
            Text("api_key", "OPENAI_API_KEY") with { LoadFromDb = true },
            new Field("max_tokens", 64, "int", []),
            new Field("temperature", 0.7, "slider", []),
            new Field("json_mode", true, "bool", []));

        var (resolver, request, result) = await RunAsync(flow, KeyValuePair.Create("OPENAI_API_KEY", "sk-seller"));

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal(new ModelSelection("Model-1", null, "gpt-4.1-mini", "sk-seller", "https://llm.example.com/v1"), Assert.Single(resolver.Selections));
        Assert.Equal("gpt-4.1-mini", request.Model);
        Assert.Equal(64, request.Body.TryGetProperty("max_completion_tokens", out var cap) ? cap.GetInt32() : request.Body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.7, request.Body.GetProperty("temperature").GetDouble(), 5);
        Assert.Equal("json_object", request.ResponseFormat!.Value.GetProperty("type").GetString());
        Assert.Equal("Be brief.", request.System);
    }

    [Fact]
    public async Task ProviderAndModelName_Of16EraExports_AreUsed()
    {
        var flow = WithModelNode("LanguageModelComponent", Text("provider", "OpenAI"), Text("model_name", "gpt-4o"));

        var (resolver, request, _) = await RunAsync(flow);

        Assert.Equal(("OpenAI", "gpt-4o"), (resolver.Selections[0].Provider, resolver.Selections[0].Model));
        Assert.Equal("gpt-4o", request.Model);
    }

    [Fact]
    public async Task UnifiedModelSelector_ReasoningModelsGetNoTemperature()
    {
        var selector = JsonNode.Parse("""[{"name":"gpt-5.1","provider":"OpenAI","metadata":{"reasoning_models":["gpt-5.1"]}}]""");
        var flow = WithModelNode("LanguageModelComponent", new Field("model", selector, "model", ["LanguageModel"]), new Field("temperature", 0.1, "slider", []));

        var (resolver, request, _) = await RunAsync(flow);

        Assert.Equal(("OpenAI", "gpt-5.1"), (resolver.Selections[0].Provider, resolver.Selections[0].Model));
        Assert.False(request.Body.TryGetProperty("temperature", out _));
    }

    [Fact]
    public async Task EmptySelector_MeansTheDefaultModel()
    {
        var flow = WithModelNode("LanguageModelComponent", new Field("model", new JsonArray(), "model", ["LanguageModel"]));

        var (resolver, request, _) = await RunAsync(flow);

        Assert.Null(resolver.Selections[0].Model);
        Assert.Equal("fake-default", request.Model);
    }

    [Fact]
    public async Task ConnectedLanguageModel_DrivesTheAgent()
    {
        var flow = new TestFlow()
            .Node("ChatInput-1", "ChatInput", fields: ChatInputFields)
            .Node("LanguageModelComponent-1", "LanguageModelComponent", "Model", ["model_output:LanguageModel"], Text("model_name", "connected-model"), Text("provider", "Ollama"))
            .Node("Agent-1", "Agent", "Agent", ["response"],
                new Field("model", "", "model", ["LanguageModel"]), Text("input_value"), new Field("add_current_date_tool", false, "bool", []))
            .Node("ChatOutput-1", "ChatOutput", fields: ChatOutputFields)
            .Edge("LanguageModelComponent-1", "model_output", "Agent-1", "model")
            .Edge("ChatInput-1", "message", "Agent-1", "input_value")
            .Edge("Agent-1", "response", "ChatOutput-1", "input_value");

        var (resolver, request, result) = await RunAsync(flow);

        Assert.Equal("ok", result.OutputText);
        Assert.Equal(("Agent-1", "Ollama", "connected-model"), (resolver.Selections[0].NodeId, resolver.Selections[0].Provider, resolver.Selections[0].Model));
        Assert.Equal("connected-model", request.Model);
        Assert.Empty(request.ToolNames);
    }
}
