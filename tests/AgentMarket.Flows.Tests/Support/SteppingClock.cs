namespace AgentMarket.Flows.Tests.Support;

/// <summary>A clock whose every reading is one second after the previous: deterministic, strictly ordered timestamps. Timers are real.</summary>
internal sealed class SteppingClock(DateTimeOffset start) : TimeProvider
{
    long _ticks = start.UtcTicks;

    public SteppingClock()
        : this(new DateTimeOffset(2025, 6, 16, 19, 58, 23, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Add(ref _ticks, TimeSpan.TicksPerSecond) - TimeSpan.TicksPerSecond, TimeSpan.Zero);
}
