namespace AgentMarket.Flows.Execution;

/// <summary>An expected component failure with a stable code and a message that is safe to show a caller.</summary>
internal sealed class FlowComponentException(string code, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;

    /// <summary>How long the failing service asked callers to wait, when it said (<see cref="RunError.RetryAfter"/>).</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>A per-run limit was reached; never caught by components (an Agent must not feed it back as a tool error).</summary>
internal sealed class RunLimitException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
