using System.Collections.Immutable;
using System.Text.Json.Serialization;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>The outcome of one run: status, the stable error, the returned outputs and the per-node run record.</summary>
public sealed record RunResult
{
    /// <summary>Succeeded, failed, canceled or stopped by a limit.</summary>
    public required RunStatus Status { get; init; }

    /// <summary>Why the run did not succeed; null on success.</summary>
    public RunError? Error { get; init; }

    /// <summary>The run's id (host-supplied or generated).</summary>
    public required string RunId { get; init; }

    /// <summary>The session the run used: the request's, else the flow id.</summary>
    public required string SessionId { get; init; }

    /// <summary>The flow id of the plan.</summary>
    public string? FlowId { get; init; }

    /// <summary>The request's input value (Langflow echoes it as <c>inputs.input_value</c>).</summary>
    public string? InputValue { get; init; }

    /// <summary>The requested nodes that were built, in the flow's node order (format §3.5). Empty unless the run succeeded.</summary>
    public ImmutableArray<NodeOutput> Outputs { get; init; } = [];

    /// <summary>Every node execution, including tool calls, in completion order.</summary>
    public ImmutableArray<NodeRun> Nodes { get; init; } = [];

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>How long the run took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Model input tokens over all nodes, as reported by the model endpoint.</summary>
    public long InputTokens => Nodes.Sum(node => node.InputTokens);

    /// <summary>Model output tokens over all nodes.</summary>
    public long OutputTokens => Nodes.Sum(node => node.OutputTokens);

    /// <summary>Where the run's token counts come from: the least direct of its nodes' (an estimate over a bound over a report).</summary>
    public UsageSource UsageSource => Nodes.Select(node => node.UsageSource).DefaultIfEmpty(UsageSource.Reported).Max();

    /// <summary>The text of the first returned message: what a chat client shows.</summary>
    public string? OutputText => Outputs.SelectMany(output => output.Values).Select(value => value.Value switch
    {
        Message message => message.Text,
        string text => text,
        _ => null,
    }).FirstOrDefault(text => text is not null);
}

/// <summary>How a run ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RunStatus>))]
public enum RunStatus
{
    /// <summary>Every node that had to run succeeded.</summary>
    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    /// <summary>A node failed; the run stopped (Langflow aborts on the first error).</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>The caller canceled.</summary>
    [JsonStringEnumMemberName("canceled")]
    Canceled,

    /// <summary>A per-run limit was reached.</summary>
    [JsonStringEnumMemberName("limit_exceeded")]
    LimitExceeded,
}

/// <summary>Why a run failed, with a stable <see cref="Code"/> from <see cref="RunErrorCodes"/>.</summary>
/// <param name="Code">Stable machine code.</param>
/// <param name="Message">A client-safe description.</param>
/// <param name="NodeId">The failing node, when one failed.</param>
/// <param name="DisplayName">The failing node's display name.</param>
public sealed record RunError(string Code, string Message, string? NodeId = null, string? DisplayName = null)
{
    /// <summary>How long the failing service (the model endpoint) asked callers to wait before retrying, when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The text Langflow puts in its 500 response: "Error running graph: Error building Component X: …" (format §3.7).</summary>
    public string LangflowMessage => NodeId is null
        ? $"Error running graph: {Message}"
        : $"Error running graph: Error building Component {DisplayName ?? NodeId}: \n\n{Message}";
}

/// <summary>The stable codes of <see cref="RunError"/>.</summary>
public static class RunErrorCodes
{
    /// <summary>A component failed.</summary>
    public const string ComponentError = "component_error";

    /// <summary>No model client for the node (the host's resolver returned null).</summary>
    public const string ModelNotConfigured = "model_not_configured";

    /// <summary>A model node carries a key but names no endpoint, and the host does not know its provider's.</summary>
    public const string ModelEndpointUnknown = "model_endpoint_unknown";

    /// <summary>The model endpoint failed (an HTTP error other than 429, an unreachable host, a broken stream).</summary>
    public const string ModelError = "model_error";

    /// <summary>The model endpoint answered 429: it is rate limiting the platform (its Retry-After is in <see cref="RunError.RetryAfter"/>).</summary>
    public const string ModelRateLimited = "model_rate_limited";

    /// <summary>The model endpoint did not answer within its timeout.</summary>
    public const string ModelTimeout = "model_timeout";

    /// <summary>The model's output did not match the requested structure.</summary>
    public const string InvalidModelOutput = "invalid_model_output";

    /// <summary>A tweak sets the input the request also sets (Langflow answers 400).</summary>
    public const string TweakConflictsWithInput = "tweak_conflicts_with_input";

    /// <summary>An outbound request was refused by the address guard.</summary>
    public const string OutboundBlocked = "outbound_blocked";

    /// <summary>An outbound request failed (DNS, connection, status, size, time).</summary>
    public const string OutboundFailed = "outbound_failed";

    /// <summary>A node needs the knowledge base and the host supplied none.</summary>
    public const string KnowledgeNotConfigured = "knowledge_not_configured";

    /// <summary>A File node needs a document and the run gave none, or it could not be read.</summary>
    public const string DocumentError = "document_error";

    /// <summary>A prompt or parser template is invalid or refers to a missing variable.</summary>
    public const string TemplateError = "template_error";

    /// <summary>The caller canceled the run.</summary>
    public const string Canceled = "canceled";

    /// <summary>The run took longer than <see cref="RunLimits.WallTime"/>.</summary>
    public const string WallTimeExceeded = "wall_time_exceeded";

    /// <summary>More node executions (tool calls included) than <see cref="RunLimits.MaxNodeExecutions"/>.</summary>
    public const string NodeExecutionsExceeded = "node_executions_exceeded";

    /// <summary>More model calls than <see cref="RunLimits.MaxModelCalls"/>.</summary>
    public const string ModelCallsExceeded = "model_calls_exceeded";

    /// <summary>More output than <see cref="RunLimits.MaxOutputBytes"/>.</summary>
    public const string OutputBytesExceeded = "output_bytes_exceeded";

    /// <summary>More outbound requests than <see cref="RunLimits.MaxOutboundRequests"/>.</summary>
    public const string OutboundRequestsExceeded = "outbound_requests_exceeded";

    /// <summary>The engine failed; a bug.</summary>
    public const string InternalError = "internal_error";
}

/// <summary>One node's returned results: output name → value (Message, Data, DataFrame or text).</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="DisplayName">Node display name.</param>
/// <param name="Type">The node's <c>data.type</c>.</param>
/// <param name="Values">The computed outputs in declaration order.</param>
public sealed record NodeOutput(string NodeId, string? DisplayName, string Type, ImmutableArray<OutputValue> Values);

/// <summary>One computed output of a node.</summary>
/// <param name="Name">Output name, e.g. <c>message</c>.</param>
/// <param name="Value">A <see cref="Message"/>, <see cref="Data"/>, <see cref="DataFrame"/>, string or list.</param>
public sealed record OutputValue(string Name, object? Value);

/// <summary>The run record of one node execution: what metering and analytics read.</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="DisplayName">Node display name.</param>
/// <param name="Type">Node type.</param>
/// <param name="Status">How it ended.</param>
/// <param name="StartedAt">Start time.</param>
/// <param name="Duration">Duration.</param>
/// <param name="ErrorCode">Stable error code when it failed.</param>
/// <param name="Error">Client-safe error text when it failed.</param>
/// <param name="InputTokens">Model input tokens (from the response usage).</param>
/// <param name="OutputTokens">Model output tokens.</param>
/// <param name="Model">The model id the endpoint reported, or the one requested.</param>
/// <param name="ModelCalls">How many model calls the node made.</param>
/// <param name="AsTool">True when an Agent called the node as a tool.</param>
/// <param name="UsageSource">Where its token counts come from, over all its model calls.</param>
public sealed record NodeRun(
    string NodeId,
    string? DisplayName,
    string Type,
    NodeRunStatus Status,
    DateTimeOffset StartedAt,
    TimeSpan Duration,
    string? ErrorCode,
    string? Error,
    long InputTokens,
    long OutputTokens,
    string? Model,
    int ModelCalls,
    bool AsTool,
    UsageSource UsageSource = UsageSource.Reported);

/// <summary>
/// Where a model call's token counts come from. A host's client that checks an endpoint's figures says which it did by
/// <see cref="UsageSources.Key"/> in the usage's additional counts; the engine keeps the least direct over a node's calls and a run's
/// nodes (ordered from most to least direct).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<UsageSource>))]
public enum UsageSource
{
    /// <summary>As the model endpoint reported them.</summary>
    [JsonStringEnumMemberName("reported")]
    Reported,

    /// <summary>The endpoint reported figures its text cannot hold, and the host held them to the bound.</summary>
    [JsonStringEnumMemberName("bounded")]
    Bounded,

    /// <summary>The endpoint reported no usage, and the host estimated it from the text.</summary>
    [JsonStringEnumMemberName("estimated")]
    Estimated,
}

/// <summary>How a host's client marks the <see cref="UsageSource"/> of a call's usage.</summary>
public static class UsageSources
{
    /// <summary>The key in <c>UsageDetails.AdditionalCounts</c> whose value is the <see cref="UsageSource"/> as a number.</summary>
    public const string Key = "agentmarket.usage_source";
}

/// <summary>How one node execution ended.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeRunStatus>))]
public enum NodeRunStatus
{
    /// <summary>Computed its outputs.</summary>
    [JsonStringEnumMemberName("succeeded")]
    Succeeded,

    /// <summary>Threw.</summary>
    [JsonStringEnumMemberName("failed")]
    Failed,

    /// <summary>Every edge into it was dead (a router chose another branch).</summary>
    [JsonStringEnumMemberName("skipped")]
    Skipped,

    /// <summary>Stopped by cancellation, a limit, or another node's failure.</summary>
    [JsonStringEnumMemberName("canceled")]
    Canceled,
}
