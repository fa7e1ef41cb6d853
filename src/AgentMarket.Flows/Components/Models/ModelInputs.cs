using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Models;

/// <summary>
/// The model-choosing fields every model component carries, in all three schemas of the exports (format §4.4):
/// the unified <c>model</c> selector (1.7+), <c>provider</c> + <c>model_name</c> (1.6), and OpenAIModel's
/// <c>model_name</c> + <c>openai_api_base</c>. An empty choice means the platform's default model.
/// </summary>
internal sealed class ModelInputs
{
    public InputSpec Model { get; } = new("model", InputKind.Handle);

    public InputSpec Provider { get; } = new("provider", InputKind.Text, "");

    public InputSpec ModelName { get; } = new("model_name", InputKind.Text, "");

    public InputSpec ApiKey { get; } = new("api_key", InputKind.Text, "");

    public InputSpec OpenAiApiKey { get; } = new("openai_api_key", InputKind.Text, "");

    public InputSpec BaseUrl { get; } = new("openai_api_base", InputKind.Text, "");

    public InputSpec Temperature { get; } = new("temperature", InputKind.Float);

    public InputSpec MaxTokens { get; } = new("max_tokens", InputKind.Int);

    public InputSpec Seed { get; } = new("seed", InputKind.Int);

    public InputSpec JsonMode { get; } = new("json_mode", InputKind.Bool, false);

    public IEnumerable<InputSpec> All => [Model, Provider, ModelName, ApiKey, OpenAiApiKey, BaseUrl, Temperature, MaxTokens, Seed, JsonMode];

    /// <summary>Reports the model the node calls, and whether it is the platform default.</summary>
    public void Describe(NodeSetup node, params string[] capabilities)
    {
        node.Require(Capabilities.ChatModel);
        foreach (var capability in capabilities)
        {
            node.Require(capability);
        }

        if (node.IsConnected(Model))
        {
            node.Model(new ModelRequirement(node.NodeId, null, null, UsesDefaultModel: false, [.. capabilities, "connected_model"]));
            return;
        }

        var (provider, model, _) = Choice(node.Constant(Model), node.ConstantText(Provider), node.ConstantText(ModelName));
        node.Model(new ModelRequirement(node.NodeId, provider, model, model is null, [.. capabilities]));
        if (model is null)
        {
            node.Report(ReportIssue.Info(
                IssueCodes.DefaultModel,
                $"\"{node.NodeId}\" leaves its model empty: it uses the platform's default model.",
                node.NodeId,
                Model.Name));
        }
    }

    public ModelSettings Read(NodeExecution node)
    {
        if (node.Value(Model) is LanguageModelValue connected)
        {
            return connected.Settings;
        }

        var (provider, model, reasoning) = Choice(node.Value(Model), node.Text(Provider), node.Text(ModelName));
        var apiKey = node.Text(ApiKey) is { Length: > 0 } key ? key : node.Text(OpenAiApiKey);
        var maxTokens = node.Int(MaxTokens);
        return new ModelSettings(
            provider,
            model,
            apiKey.Length > 0 ? apiKey : null,
            node.Text(BaseUrl) is { Length: > 0 } baseUrl ? baseUrl : null,
            reasoning ? null : (float?)node.OptionalFloat(Temperature),
            maxTokens > 0 ? (int)Math.Min(maxTokens, int.MaxValue) : null,
            node.Value(Seed) is null ? null : node.Int(Seed),
            node.Bool(JsonMode));
    }

    /// <summary>The unified selector is a list with zero or one entries; reasoning models take no temperature.</summary>
    static (string? Provider, string? Model, bool Reasoning) Choice(object? selector, string provider, string modelName)
    {
        if (selector is JsonElement { ValueKind: JsonValueKind.Array } list && list.GetArrayLength() > 0 && list[0] is { ValueKind: JsonValueKind.Object } entry)
        {
            var name = entry.TryGetProperty("name", out var nameElement) && nameElement.ValueKind == JsonValueKind.String ? nameElement.GetString() : null;
            var chosenProvider = entry.TryGetProperty("provider", out var providerElement) && providerElement.ValueKind == JsonValueKind.String ? providerElement.GetString() : null;
            var reasoning = entry.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object &&
                            metadata.TryGetProperty("reasoning_models", out var reasoningModels) && reasoningModels.ValueKind == JsonValueKind.Array &&
                            reasoningModels.EnumerateArray().Any(item => item.ValueKind == JsonValueKind.String && item.GetString() == name);
            return (chosenProvider, string.IsNullOrWhiteSpace(name) ? null : name, reasoning);
        }

        if (selector is string { Length: > 0 } named)
        {
            return (provider.Length > 0 ? provider : null, named, false);
        }

        return (provider.Length > 0 ? provider : null, modelName.Length > 0 ? modelName : null, false);
    }
}
