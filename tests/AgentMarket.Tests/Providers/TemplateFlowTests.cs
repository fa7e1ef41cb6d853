using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Providers.Agents;
using AgentMarket.Providers.Configuration;
using AgentMarket.Tests.Catalog;
using Microsoft.Extensions.AI;

namespace AgentMarket.Tests.Providers;

/// <summary>
/// The templates are flows the engine runs, and buyer configuration reaches a flow only through declared fields:
/// checked by running the flows on the engine with a model that answers with what it was sent.
/// </summary>
public class TemplateFlowTests
{
    [Fact]
    public async Task PromptAssistant_Runs_WithItsSystemPrompt()
    {
        var model = new EchoModel();
        var result = await RunAsync("prompt_assistant", "What is 2+2?", model);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Contains("helpful, friendly assistant", model.LastSystemMessage, StringComparison.Ordinal);
        Assert.Contains("What is 2+2?", result.OutputText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KnowledgeBaseAssistant_PutsTheBuyersPassagesInTheSystemMessage()
    {
        var knowledge = new InMemoryKnowledgeBase();
        await knowledge.IngestAsync(
        [
            new KnowledgeDocument("Refunds are granted within 30 days of purchase.", ImmutableDictionary<string, string>.Empty),
            new KnowledgeDocument("Our office is closed on Sundays.", ImmutableDictionary<string, string>.Empty),
        ], CancellationToken.None);
        var model = new EchoModel();

        var result = await RunAsync("knowledge_base_assistant", "How long do refunds take?", model, knowledge);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Contains("Refunds are granted within 30 days", model.LastSystemMessage, StringComparison.Ordinal);
        Assert.Contains("say you do not know", model.LastSystemMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WebhookAutomation_SummarisesThePayload()
    {
        var model = new EchoModel();
        var tweaks = JsonSerializer.SerializeToElement(new Dictionary<string, object> { ["Webhook-a9Tq2"] = new { data = "{\"order\": 1042, \"status\": \"refund requested\"}" } });

        var result = await RunAsync("webhook_automation", null, model, tweaks: tweaks);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Contains("action items", model.LastSystemMessage, StringComparison.Ordinal);
        Assert.Contains("refund requested", model.LastUserMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuyerConfiguration_ReachesTheFlow_OnlyThroughDeclaredFields()
    {
        var flow = CatalogIntents.ExampleFlow("Basic Prompting.json");
        ConfigurableField[] declared =
        [
            new() { Key = "persona", NodeId = "Prompt-xvuxC", FieldName = "template", Label = "Persona", Kind = ConfigurableFieldKind.LongText, DefaultValue = "You are a pirate." },
            new() { Key = "bot_name", NodeId = "ChatOutput-hJNhd", FieldName = "sender_name", Label = "Bot name", Kind = ConfigurableFieldKind.Text, SortOrder = 1 },
        ];
        var values = new Dictionary<string, JsonElement>
        {
            ["persona"] = JsonSerializer.SerializeToElement("You are a librarian."),
            // Not declared: a buyer must not reach the model's temperature, whatever they send.
            ["temperature"] = JsonSerializer.SerializeToElement(2.0),
        };

        var tweaks = BuyerConfiguration.ToTweaks(declared, values);
        Assert.Equal("""{"Prompt-xvuxC":{"template":"You are a librarian."}}""", tweaks.ToJsonString());
        Assert.Equal([("temperature", "This agent has no such setting.")], BuyerConfiguration.Problems(declared, values));

        var model = new EchoModel();
        var compiled = FlowEngine.Default.Compile(flow);
        var result = await FlowEngine.Default.RunAsync(compiled.Plan!, new RunRequest { InputValue = "Hello", Tweaks = JsonSerializer.SerializeToElement(tweaks) }, Services(model));
        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("You are a librarian.", model.LastSystemMessage);

        var defaults = BuyerConfiguration.ToTweaks(declared, new Dictionary<string, JsonElement>());
        Assert.Equal("""{"Prompt-xvuxC":{"template":"You are a pirate."}}""", defaults.ToJsonString());
    }

    [Fact]
    public void BuyerConfiguration_WrongTypes_AreProblems_AndFallBackToTheDefault()
    {
        ConfigurableField[] declared =
        [
            new() { Key = "greeting_on", NodeId = "n", FieldName = "on", Label = "On", Kind = ConfigurableFieldKind.Boolean, DefaultValue = "true" },
            new() { Key = "tone", NodeId = "n", FieldName = "tone", Label = "Tone", Kind = ConfigurableFieldKind.Choice, Options = ["formal", "casual"], DefaultValue = "formal" },
            new() { Key = "top_k", NodeId = "k", FieldName = "top_k", Label = "Results", Kind = ConfigurableFieldKind.Number, DefaultValue = "5" },
        ];
        var values = new Dictionary<string, JsonElement>
        {
            // Langflow would read the string "false" as true (format §1.3); only JSON booleans are accepted.
            ["greeting_on"] = JsonSerializer.SerializeToElement("false"),
            ["tone"] = JsonSerializer.SerializeToElement("sarcastic"),
            ["top_k"] = JsonSerializer.SerializeToElement(3),
        };

        Assert.Equal(["greeting_on", "tone"], BuyerConfiguration.Problems(declared, values).Select(p => p.Key).ToArray());
        Assert.Equal("""{"n":{"on":true,"tone":"formal"},"k":{"top_k":3}}""", BuyerConfiguration.ToTweaks(declared, values).ToJsonString());
    }

    static async Task<RunResult> RunAsync(string templateKey, string? input, EchoModel model, IKnowledgeRetriever? knowledge = null, JsonElement? tweaks = null)
    {
        var template = FlowTemplates.Find(templateKey)!;
        var compiled = FlowEngine.Default.Compile(FlowTemplates.Flow(template));
        Assert.True(compiled.Report.Runnable, compiled.Report.ToText());
        return await FlowEngine.Default.RunAsync(compiled.Plan!, new RunRequest { InputValue = input, Tweaks = tweaks }, Services(model, knowledge));
    }

    static FlowServices Services(EchoModel model, IKnowledgeRetriever? knowledge = null) =>
        new() { Models = new SingleModelResolver(model), Messages = new InMemoryMessageStore(), Knowledge = knowledge };

    /// <summary>A model that answers with the user's message, remembering what it was sent.</summary>
    sealed class EchoModel : IChatClient
    {
        public string LastSystemMessage { get; private set; } = "";
        public string LastUserMessage { get; private set; } = "";

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var list = messages.ToList();
            LastSystemMessage = string.Join("\n", list.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
            LastUserMessage = list.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? "";
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Echo: " + LastUserMessage)));
        }

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var response = await GetResponseAsync(messages, options, cancellationToken);
            yield return new ChatResponseUpdate(ChatRole.Assistant, response.Text);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
