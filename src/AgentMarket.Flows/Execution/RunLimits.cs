namespace AgentMarket.Flows.Execution;

/// <summary>
/// Per-run limits, enforced at chokepoints the engine owns (scheduler, model client wrapper, outbound gate, output
/// writer), so no component can forget them. Breaching one ends the run with <see cref="RunStatus.LimitExceeded"/>.
/// </summary>
public sealed record RunLimits
{
    /// <summary>The defaults: generous for chat agents, bounded for abuse.</summary>
    public static RunLimits Default { get; } = new();

    /// <summary>Wall-clock time for the whole run.</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Node executions, counting every tool call an Agent makes.</summary>
    public int MaxNodeExecutions { get; init; } = 500;

    /// <summary>Model calls (each Agent iteration is one).</summary>
    public int MaxModelCalls { get; init; } = 50;

    /// <summary>UTF-8 bytes of returned message text, streamed tokens included.</summary>
    public long MaxOutputBytes { get; init; } = 1024 * 1024;

    /// <summary>Outbound HTTP requests (URL and API Request components, redirects included).</summary>
    public int MaxOutboundRequests { get; init; } = 20;
}
