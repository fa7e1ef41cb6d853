namespace AgentMarket.Flows;

/// <summary>Identifies the engine in run records and reports.</summary>
public static class FlowEngineInfo
{
    public const string Name = "agentmarket-flows";
}
