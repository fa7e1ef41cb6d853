using System.Collections.Immutable;
using AgentMarket.Flows.Compilation;

namespace AgentMarket.Flows.Values;

/// <summary>A tool-mode node's <c>component_as_tool</c> output: the functions an Agent may call on that node.</summary>
internal sealed record ToolValue(int NodeIndex, ImmutableArray<PlanTool> Tools);

/// <summary>A language model handle (<c>model_output</c>): what an Agent or Structured Output fed by an edge calls.</summary>
internal sealed record LanguageModelValue(ModelSettings Settings);

/// <summary>
/// An embeddings handle. The platform's knowledge base embeds on its own, so this only marks that the flow
/// connected an embedding model; it carries no client.
/// </summary>
internal sealed record EmbeddingsValue(string NodeId, string? Model);

/// <summary>A model choice read from a node's fields (format §4.4).</summary>
/// <param name="Provider">Provider named in the flow.</param>
/// <param name="Model">Model named in the flow; null = the default model.</param>
/// <param name="ApiKey">Key from the field or its global variable.</param>
/// <param name="BaseUrl">Endpoint named in the flow.</param>
/// <param name="Temperature">Temperature, unless the model is a reasoning model.</param>
/// <param name="MaxTokens">Output token cap.</param>
/// <param name="Seed">Sampling seed.</param>
/// <param name="JsonMode">Ask for a JSON object.</param>
internal sealed record ModelSettings(
    string? Provider,
    string? Model,
    string? ApiKey,
    string? BaseUrl,
    float? Temperature,
    int? MaxTokens,
    long? Seed,
    bool JsonMode);
