using System.Text.Json;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// What a caller asks of one run, with Langflow's <c>/api/v1/run</c> semantics (langflow-format.md §3, §6.1).
/// Parse a Langflow request body with <see cref="Langflow.LangflowRunBody.Parse"/>.
/// </summary>
public sealed record RunRequest
{
    /// <summary>Text for the input nodes; null leaves every input node at its configured value (format §3.2).</summary>
    public string? InputValue { get; init; }

    /// <summary><c>chat</c>, <c>text</c> or <c>any</c>: which input nodes receive <see cref="InputValue"/> (substring of the lower-cased node id).</summary>
    public string InputType { get; init; } = "chat";

    /// <summary><c>chat</c>, <c>text</c>, <c>any</c> or <c>debug</c>: which nodes' results are returned (format §3.5).</summary>
    public string OutputType { get; init; } = "chat";

    /// <summary>A node id or display name to return instead of <see cref="OutputType"/>'s selection.</summary>
    public string? OutputComponent { get; init; }

    /// <summary>Per-run template overrides: by node id or display name, or global for non-object values (format §5).</summary>
    public JsonElement? Tweaks { get; init; }

    /// <summary>The conversation key; null means the flow id (format §3.3).</summary>
    public string? SessionId { get; init; }

    /// <summary>The host's id for this run (metering, logs); a new one is generated when null.</summary>
    public string? RunId { get; init; }
}
