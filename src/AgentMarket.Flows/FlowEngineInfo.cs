namespace AgentMarket.Flows;

/// <summary>Identifies the engine in run records and reports.</summary>
public static class FlowEngineInfo
{
    /// <summary>The engine's name.</summary>
    public const string Name = "agentmarket-flows";
}
