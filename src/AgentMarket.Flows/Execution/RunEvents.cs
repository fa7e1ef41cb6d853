using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// A typed event of a streaming run, in the order it happened. The host serializes them: Langflow's NDJSON
/// (<see cref="Langflow.LangflowStreamEvents"/>), SSE, or OpenAI chunks. The last event is always
/// <see cref="RunCompleted"/> or <see cref="RunFailed"/>.
/// </summary>
public abstract record RunEvent;

/// <summary>The run started.</summary>
/// <param name="RunId">Run id.</param>
/// <param name="SessionId">Session id.</param>
public sealed record RunStarted(string RunId, string SessionId) : RunEvent;

/// <summary>A node started.</summary>
/// <param name="NodeId">Node id.</param>
/// <param name="DisplayName">Node display name.</param>
public sealed record NodeStarted(string NodeId, string? DisplayName) : RunEvent;

/// <summary>A node finished (or was skipped, or was called as a tool).</summary>
/// <param name="Run">Its run record.</param>
public sealed record NodeFinished(NodeRun Run) : RunEvent;

/// <summary>A message was stored or first streamed: Langflow's <c>add_message</c>.</summary>
/// <param name="Message">The message, with its store id.</param>
public sealed record MessageAdded(Message Message) : RunEvent;

/// <summary>A chunk of a streaming model answer: Langflow's <c>token</c>.</summary>
/// <param name="MessageId">The id of the message being streamed.</param>
/// <param name="Chunk">The text chunk.</param>
public sealed record TokenEmitted(string MessageId, string Chunk) : RunEvent;

/// <summary>The run succeeded: Langflow's <c>end</c>.</summary>
/// <param name="Result">The result, as <c>RunAsync</c> would return it.</param>
public sealed record RunCompleted(RunResult Result) : RunEvent;

/// <summary>The run failed, was canceled or hit a limit: the <c>error</c> event Langflow does not send.</summary>
/// <param name="Result">The result with its error.</param>
public sealed record RunFailed(RunResult Result) : RunEvent;
