namespace AgentMarket.Webhooks;

/// <summary>
/// When a failed delivery is tried again: exponential back-off (base, 2×base, 4×base… capped), each delay spread by
/// ±20 % so that endpoints that failed together (an outage) are not all retried in the same second when it ends.
/// </summary>
public static class WebhookRetrySchedule
{
    public const double Jitter = 0.2;

    /// <summary>The wait after the <paramref name="failedAttempts"/>-th failed attempt (1 for the first); <paramref name="random"/> is in [0, 1).</summary>
    public static TimeSpan Delay(int failedAttempts, TimeSpan baseDelay, TimeSpan maxDelay, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        // 2^30 × any base already exceeds every sensible cap; the clamp keeps the shift from overflowing.
        var exponential = baseDelay.TotalSeconds * (1L << Math.Min(failedAttempts - 1, 30));
        var capped = Math.Min(exponential, maxDelay.TotalSeconds);
        return TimeSpan.FromSeconds(capped * (1 - Jitter + (2 * Jitter * random)));
    }
}
