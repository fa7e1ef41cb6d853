namespace AgentMarket.Tests.Infrastructure;

/// <summary>The app's clock in tests: real time plus an offset a test can move forward (a day boundary, an expiry).</summary>
public sealed class TestClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow.AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <summary>
    /// Moves the clock to the start of the next minute, so a test counting per minute of the app's clock has a whole minute
    /// of real time before the next one starts (a plain minute's advance can land a second before a boundary).
    /// </summary>
    public void AdvanceToNextMinute()
    {
        var now = GetUtcNow();
        Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(now.Ticks % TimeSpan.TicksPerMinute));
    }

    /// <summary>Moves the clock to <paramref name="before"/> ahead of the next UTC midnight.</summary>
    public void AdvanceToBeforeMidnight(TimeSpan before)
    {
        var now = GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        Advance(midnight - now - before);
    }
}
