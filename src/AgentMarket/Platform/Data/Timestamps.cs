namespace AgentMarket.Platform.Data;

/// <summary>Timestamps as the databases keep them.</summary>
public static class Timestamps
{
    /// <summary>
    /// PostgreSQL keeps whole microseconds: a value that is written and later compared with what was read back (a
    /// lease, a claim) is truncated the same way first, so the two are equal.
    /// </summary>
    public static DateTime WholeMicroseconds(DateTime value) => value.AddTicks(-(value.Ticks % TimeSpan.TicksPerMicrosecond));
}
