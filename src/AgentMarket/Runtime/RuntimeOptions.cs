using System.ComponentModel.DataAnnotations;

namespace AgentMarket.Runtime;

/// <summary>The operator's default OpenAI-compatible model endpoint, bound from <c>Llm</c> (the CLI reads the same keys).</summary>
public sealed class LlmOptions
{
    /// <summary>For example <c>https://api.openai.com/v1</c> or a local Ollama at <c>http://127.0.0.1:11434/v1</c>.</summary>
    public string? BaseUrl { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>The model used when a flow's model field is empty, or names a model this endpoint does not serve.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>
    /// Further models this endpoint serves to flows running on the operator's key (<c>Llm:Models:0</c>, …; names compared
    /// exactly). A flow naming any other model gets <see cref="Model"/> (ADR-140): otherwise a seller's flow would choose
    /// what the operator pays for, or a model the endpoint does not have. Empty: only <see cref="Model"/> is served.
    /// </summary>
    public List<string> Models { get; set; } = [];

    [Range(1, 600)]
    public int TimeoutSeconds { get; set; } = 100;

    /// <summary>
    /// The most hidden reasoning tokens one model call on an endpoint that is not the operator's is charged (ADR-172):
    /// they are in no text the platform sees, so this, and the output the call allowed, bound what the endpoint's owner
    /// can claim. 0 charges none. The operator's endpoint is charged what it reports.
    /// </summary>
    [Range(0, 1_000_000)]
    public long MaxReasoningTokensPerCall { get; set; } = 32_768;

    public bool Configured => !string.IsNullOrWhiteSpace(BaseUrl) || !string.IsNullOrWhiteSpace(ApiKey);

    /// <summary>The model a call on the operator's key uses when the flow asks for <paramref name="requested"/> (null: none).</summary>
    public string ServedModel(string? requested) =>
        requested is not null && (requested == Model || Models.Contains(requested)) ? requested : Model;

    /// <summary>The models a flow's model nodes name that runs on this endpoint replace with <see cref="Model"/>.</summary>
    public List<ReplacedModel> ReplacedModels(IEnumerable<(string NodeId, string? Model)> named) =>
        !Configured ? [] : [.. named.Where(m => m.Model is { } model && ServedModel(model) != model).Select(m => new ReplacedModel(m.NodeId, m.Model!, Model))];
}

/// <summary>A model node's <paramref name="Model"/> that runs on the operator's key call as <paramref name="ServedModel"/> (ADR-140).</summary>
public sealed record ReplacedModel(string NodeId, string Model, string ServedModel);

/// <summary>Bound from <c>Flows</c>: what runs may do.</summary>
public sealed class FlowsOptions
{
    /// <summary>Hosts or CIDR ranges flows may reach although they are private or loopback (operators only; empty by default).</summary>
    public List<string> OutboundAllowList { get; set; } = [];

    /// <summary>Wall time of one run.</summary>
    [Range(1, 3600)]
    public int RunTimeoutSeconds { get; set; } = 120;

    /// <summary>How many earlier messages of a session a run may read (session memory).</summary>
    [Range(1, 10_000)]
    public int SessionHistoryLimit { get; set; } = 100;
}
