using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Net;

namespace AgentMarket.Flows.Services;

/// <summary>
/// What the host supplies to a run: model clients, session memory, the knowledge base, secrets, documents,
/// outbound HTTP, the clock and the limits. Build one per run (tenant-scoped services) or share one when nothing
/// differs; the engine keeps no reference after the run.
/// </summary>
public sealed record FlowServices
{
    /// <summary>Returns the chat client for a model node; null fails the run with <c>model_not_configured</c>.</summary>
    public required IModelResolver Models { get; init; }

    /// <summary>Session memory: ChatInput/ChatOutput store into it, Memory and Agent read from it.</summary>
    public required IMessageStore Messages { get; init; }

    /// <summary>The agent's knowledge base, behind KnowledgeRetrieval and the vector-store components; null fails those nodes.</summary>
    public IKnowledgeRetriever? Knowledge { get; init; }

    /// <summary>Resolves global variables of <c>load_from_db</c> fields (e.g. <c>OPENAI_API_KEY</c>).</summary>
    public ISecretResolver Secrets { get; init; } = DictionarySecretResolver.Empty;

    /// <summary>Reads documents for File nodes; null fails those nodes.</summary>
    public IDocumentReader? Documents { get; init; }

    /// <summary>The guarded HTTP client of URL and API Request nodes; by default private addresses are refused.</summary>
    public OutboundGuard Outbound { get; init; } = OutboundGuard.Default;

    /// <summary>The clock for timestamps, durations and the wall-time limit.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Per-run limits.</summary>
    public RunLimits Limits { get; init; } = RunLimits.Default;
}
