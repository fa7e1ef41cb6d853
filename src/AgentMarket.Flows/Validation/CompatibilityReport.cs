using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentMarket.Flows.Validation;

/// <summary>
/// What the engine can do with a flow export: every node with its component and whether it is supported, every
/// problem found, and what a run needs (secrets, capabilities, models). Machine-readable as snake_case JSON
/// (<see cref="ToJson"/>) and readable by a seller (<see cref="ToText"/>). Produced for any input, never by throwing.
/// </summary>
public sealed record CompatibilityReport
{
    /// <summary>True when the flow can be compiled and run: no issue has severity error.</summary>
    public required bool Runnable { get; init; }

    /// <summary>The export's <c>id</c>, when present.</summary>
    public string? FlowId { get; init; }

    /// <summary>The export's <c>name</c>, when present.</summary>
    public string? FlowName { get; init; }

    /// <summary>The Langflow version that last saved the export.</summary>
    public string? LastTestedVersion { get; init; }

    /// <summary><c>langflow</c> (1.x), <c>legacy</c> (pre-1.0) or <c>unreadable</c>.</summary>
    public required string Format { get; init; }

    /// <summary>The node where runs start (the Chat Input or Webhook), or null when every node runs.</summary>
    public string? StartNodeId { get; init; }

    /// <summary>Every component node (sticky notes excluded), in file order.</summary>
    public ImmutableArray<NodeReport> Nodes { get; init; } = [];

    /// <summary>Every problem found, errors first.</summary>
    public ImmutableArray<ReportIssue> Issues { get; init; } = [];

    /// <summary>Global-variable names (<c>load_from_db</c> fields) a run resolves through the secrets service.</summary>
    public ImmutableArray<string> RequiredSecrets { get; init; } = [];

    /// <summary>What the platform must provide: <c>chat_model</c>, <c>tool_calling</c>, <c>json_output</c>, <c>retrieval</c>, <c>outbound_http</c>, <c>documents</c>, <c>session_memory</c>.</summary>
    public ImmutableArray<string> RequiredCapabilities { get; init; } = [];

    /// <summary>Each model the flow calls.</summary>
    public ImmutableArray<ModelRequirement> Models { get; init; } = [];

    /// <summary>The report as snake_case JSON.</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? ReportJsonContext.Indented.CompatibilityReport : ReportJsonContext.Compact.CompatibilityReport);

    /// <summary>Reads a report back from its JSON.</summary>
    public static CompatibilityReport? FromJson(string json) => JsonSerializer.Deserialize(json, ReportJsonContext.Compact.CompatibilityReport);

    /// <summary>The report as plain text for a seller.</summary>
    public string ToText() => ReportText.Render(this);
}

/// <summary>One node of the flow and whether the engine supports it.</summary>
/// <param name="Id">The node id, verbatim.</param>
/// <param name="Type">The node's <c>data.type</c>.</param>
/// <param name="DisplayName">The node's display name.</param>
/// <param name="Component">The engine component it maps to, or null.</param>
/// <param name="Status">Supported, unsupported or custom code.</param>
/// <param name="Note">Why it is unsupported, or how it maps onto the platform.</param>
/// <param name="RunsViaApi">False when the node is outside the part of the graph a run reaches.</param>
public sealed record NodeReport(
    string Id,
    string Type,
    string? DisplayName,
    string? Component,
    NodeSupport Status,
    string? Note,
    bool RunsViaApi);

/// <summary>Whether a node can run here.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<NodeSupport>))]
public enum NodeSupport
{
    /// <summary>A native implementation exists.</summary>
    [JsonStringEnumMemberName("supported")]
    Supported,

    /// <summary>No implementation of this component type exists here.</summary>
    [JsonStringEnumMemberName("unsupported")]
    Unsupported,

    /// <summary>Custom or edited Python code, which is never executed here.</summary>
    [JsonStringEnumMemberName("custom_code")]
    CustomCode,
}

/// <summary>How bad an issue is: errors make a flow not runnable.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<IssueSeverity>))]
public enum IssueSeverity
{
    /// <summary>The flow cannot run.</summary>
    [JsonStringEnumMemberName("error")]
    Error,

    /// <summary>The flow runs, but probably not as the seller expects.</summary>
    [JsonStringEnumMemberName("warning")]
    Warning,

    /// <summary>Worth knowing.</summary>
    [JsonStringEnumMemberName("info")]
    Info,
}

/// <summary>One problem found in a flow, with a stable <see cref="Code"/> (see <see cref="IssueCodes"/>).</summary>
/// <param name="Severity">Error, warning or info.</param>
/// <param name="Code">Stable machine code.</param>
/// <param name="Message">What is wrong and what to do, for a seller.</param>
/// <param name="NodeId">The node concerned, when there is one.</param>
/// <param name="Field">The template field concerned, when there is one.</param>
public sealed record ReportIssue(IssueSeverity Severity, string Code, string Message, string? NodeId = null, string? Field = null)
{
    internal static ReportIssue Error(string code, string message, string? nodeId = null, string? field = null) =>
        new(IssueSeverity.Error, code, message, nodeId, field);

    internal static ReportIssue Warning(string code, string message, string? nodeId = null, string? field = null) =>
        new(IssueSeverity.Warning, code, message, nodeId, field);

    internal static ReportIssue Info(string code, string message, string? nodeId = null, string? field = null) =>
        new(IssueSeverity.Info, code, message, nodeId, field);
}

/// <summary>A model call the flow makes.</summary>
/// <param name="NodeId">The calling node.</param>
/// <param name="Provider">The provider named in the flow, when any.</param>
/// <param name="Model">The model named in the flow, or null for the platform's default model.</param>
/// <param name="UsesDefaultModel">True when the flow leaves the model empty.</param>
/// <param name="Capabilities">What the call needs beyond chat: <c>tool_calling</c>, <c>json_output</c>, <c>streaming</c>.</param>
public sealed record ModelRequirement(string NodeId, string? Provider, string? Model, bool UsesDefaultModel, ImmutableArray<string> Capabilities);

/// <summary>The stable issue codes of a <see cref="CompatibilityReport"/>.</summary>
public static class IssueCodes
{
    /// <summary>The bytes are not JSON.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>The JSON is not a flow export.</summary>
    public const string NotAFlow = "not_a_flow";

    /// <summary>The file is larger than the engine accepts.</summary>
    public const string FlowTooLarge = "flow_too_large";

    /// <summary>Saved by Langflow before 1.0.</summary>
    public const string LegacyFormat = "legacy_format";

    /// <summary>A node could not be read.</summary>
    public const string InvalidNode = "invalid_node";

    /// <summary>An edge could not be read.</summary>
    public const string InvalidEdge = "invalid_edge";

    /// <summary>Two nodes share an id.</summary>
    public const string DuplicateNodeId = "duplicate_node_id";

    /// <summary>A component type has no implementation here.</summary>
    public const string UnsupportedComponent = "unsupported_component";

    /// <summary>An edge reads an output this runtime's implementation does not produce.</summary>
    public const string UnsupportedOutput = "unsupported_output";

    /// <summary>An edge feeds a field the component implementation does not read.</summary>
    public const string UnusedField = "unused_field";

    /// <summary>Custom or edited Python code.</summary>
    public const string CustomCode = "custom_code";

    /// <summary>A group node (collapsed sub-flow).</summary>
    public const string GroupNode = "group_node";

    /// <summary>An edge names a node, output or field that does not exist.</summary>
    public const string DanglingEdge = "dangling_edge";

    /// <summary>An edge joins an output to a field that does not accept its type.</summary>
    public const string TypeMismatch = "type_mismatch";

    /// <summary>The edges form a cycle.</summary>
    public const string Cycle = "cycle";

    /// <summary>More than one Chat Input.</summary>
    public const string MultipleChatInputs = "multiple_chat_inputs";

    /// <summary>No Chat Input, Text Input or Webhook.</summary>
    public const string NoInput = "no_input";

    /// <summary>No Chat Output, Text Output or Data Output.</summary>
    public const string NoOutput = "no_output";

    /// <summary>A required field has no value and no edge.</summary>
    public const string MissingRequiredInput = "missing_required_input";

    /// <summary>A prompt or parser template cannot be rendered.</summary>
    public const string InvalidTemplate = "invalid_template";

    /// <summary>A model field is empty: the platform's default model is used.</summary>
    public const string DefaultModel = "default_model";

    /// <summary>A File node has no document: one must be given per run.</summary>
    public const string DocumentRequired = "document_required";

    /// <summary>Nodes outside the part of the graph a run reaches.</summary>
    public const string NotRunViaApi = "not_run_via_api";

    /// <summary>A frozen node; runs here always rebuild it.</summary>
    public const string FrozenIgnored = "frozen_ignored";

    /// <summary>A component mapped onto a platform service (e.g. a vector store onto the knowledge base).</summary>
    public const string MappedToPlatform = "mapped_to_platform";

    /// <summary>A saved single component, not a flow.</summary>
    public const string IsComponent = "is_component";

    /// <summary>The validator failed; a bug, reported rather than thrown.</summary>
    public const string InternalError = "internal_error";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CompatibilityReport))]
internal sealed partial class ReportJsonContext : JsonSerializerContext
{
    /// <summary>Compact, with quotes and apostrophes left readable (the report is data, never embedded in HTML unencoded).</summary>
    public static ReportJsonContext Compact { get; } = new(CreateOptions(indented: false));

    /// <summary>Indented for people.</summary>
    public static ReportJsonContext Indented { get; } = new(CreateOptions(indented: true));

    static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
        IndentSize = 2,
    };
}
