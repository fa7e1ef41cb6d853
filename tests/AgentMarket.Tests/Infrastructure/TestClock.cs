namespace AgentMarket.Tests.Infrastructure;

/// <summary>The app's clock in tests: real time plus an offset a test can move forward (a day boundary, an expiry).</summary>
public sealed class TestClock : TimeProvider
{
    long _offsetTicks;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow.AddTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    /// <summary>Moves the clock to <paramref name="before"/> ahead of the next UTC midnight.</summary>
    public void AdvanceToBeforeMidnight(TimeSpan before)
    {
        var now = GetUtcNow();
        var midnight = new DateTimeOffset(now.UtcDateTime.Date.AddDays(1), TimeSpan.Zero);
        Advance(midnight - now - before);
    }
}
