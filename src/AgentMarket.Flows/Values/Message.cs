using System.Collections.Immutable;

namespace AgentMarket.Flows.Values;

/// <summary>
/// A chat message: Langflow's <c>Message</c>, the value most edges carry (langflow-format.md §2).
/// Immutable: one instance flows to every target, and changes are made with <c>with</c>.
/// </summary>
public sealed record Message
{
    /// <summary>The message text.</summary>
    public string Text { get; init; } = "";

    /// <summary><c>"User"</c> or <c>"Machine"</c> (<see cref="MessageSenders"/>), or null when unset.</summary>
    public string? Sender { get; init; }

    /// <summary>Display name of the sender, e.g. "User" or "AI".</summary>
    public string? SenderName { get; init; }

    /// <summary>The conversation key.</summary>
    public string SessionId { get; init; } = "";

    /// <summary>An optional extra partition of session memory.</summary>
    public string ContextId { get; init; } = "";

    /// <summary>File paths attached to the message.</summary>
    public ImmutableArray<string> Files { get; init; } = [];

    /// <summary>When the message was created (UTC).</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The flow that produced the message.</summary>
    public string? FlowId { get; init; }

    /// <summary>The message-store id; set once the message has been stored.</summary>
    public string? Id { get; init; }

    /// <summary>True for error messages (excluded from memory).</summary>
    public bool Error { get; init; }

    /// <summary>True when the message was edited in a chat UI.</summary>
    public bool Edit { get; init; }

    /// <summary><c>message</c> (default), <c>error</c>, <c>warning</c> or <c>info</c>.</summary>
    public string Category { get; init; } = "message";

    /// <summary>Display properties, including which node produced the text.</summary>
    public MessageProperties Properties { get; init; } = MessageProperties.Empty;

    /// <summary>Step traces (the Agent's "Agent Steps").</summary>
    public ImmutableArray<ContentBlock> ContentBlocks { get; init; } = [];

    /// <summary>How long producing the message took, when known.</summary>
    public long? DurationMs { get; init; }
}

/// <summary>The two sender constants Langflow uses (there is no "AI" sender).</summary>
public static class MessageSenders
{
    /// <summary>A human turn.</summary>
    public const string User = "User";

    /// <summary>A model or agent turn.</summary>
    public const string Machine = "Machine";
}

/// <summary>Langflow's <c>properties</c> of a message.</summary>
public sealed record MessageProperties
{
    /// <summary>No properties set.</summary>
    public static readonly MessageProperties Empty = new();

    /// <summary>The node that produced the text, when known.</summary>
    public MessageSource? Source { get; init; }

    /// <summary><c>partial</c> while a message is streaming, else <c>complete</c>.</summary>
    public string State { get; init; } = "complete";

    /// <summary>Icon name for chat UIs.</summary>
    public string Icon { get; init; } = "";

    /// <summary>Chat UI text colour.</summary>
    public string TextColor { get; init; } = "";

    /// <summary>Chat UI background colour.</summary>
    public string BackgroundColor { get; init; } = "";
}

/// <summary>Which node produced a message: <c>properties.source</c>.</summary>
/// <param name="Id">Node id.</param>
/// <param name="DisplayName">Node display name.</param>
/// <param name="Source">Usually the model name when the node is a model.</param>
public sealed record MessageSource(string? Id, string? DisplayName, string? Source);

/// <summary>A titled group of step contents, e.g. the Agent's "Agent Steps".</summary>
/// <param name="Title">Block title.</param>
/// <param name="Contents">The steps.</param>
public sealed record ContentBlock(string Title, ImmutableArray<StepContent> Contents);

/// <summary>One step in a content block: a text step or a tool use.</summary>
/// <param name="Kind"><c>text</c> or <c>tool_use</c>.</param>
/// <param name="HeaderTitle">Step header, e.g. "Input" or "Executed **evaluate_expression**".</param>
/// <param name="HeaderIcon">Header icon name.</param>
/// <param name="Text">Text of a text step.</param>
/// <param name="ToolName">Tool name of a tool step.</param>
/// <param name="ToolInput">Tool arguments (JSON text) of a tool step.</param>
/// <param name="ToolOutput">Tool result of a tool step.</param>
/// <param name="ToolError">Tool error of a failed tool step.</param>
/// <param name="DurationMs">Step duration.</param>
public sealed record StepContent(
    string Kind,
    string HeaderTitle,
    string HeaderIcon,
    string? Text = null,
    string? ToolName = null,
    string? ToolInput = null,
    string? ToolOutput = null,
    string? ToolError = null,
    long DurationMs = 0);
