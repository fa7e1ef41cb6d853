using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace AgentMarket.Keys;

/// <summary>
/// Per-key request limits: a token bucket per key refilled every second to the key's per-minute rate (or the default),
/// so a burst of a minute's worth is allowed and the rate holds after it. In process: each replica enforces it alone.
/// </summary>
public sealed class KeyRateLimits(IOptions<KeysOptions> options) : IDisposable
{
    readonly ConcurrentDictionary<(Guid Key, int PerMinute), RateLimiter> _limiters = new();

    /// <summary>Takes one request from the key's allowance; on refusal, how long to wait.</summary>
    public (bool Allowed, TimeSpan RetryAfter) TryAcquire(Guid keyId, int? perMinute)
    {
        var rate = perMinute ?? options.Value.DefaultRateLimitPerMinute;
        var limiter = _limiters.GetOrAdd((keyId, rate), k => new TokenBucketRateLimiter(PerMinute(k.PerMinute)));
        using var lease = limiter.AttemptAcquire();
        return lease.IsAcquired ? (true, TimeSpan.Zero) : (false, RetryAfter(lease));
    }

    /// <summary>A bucket of a minute's worth of requests, refilled every second (or every request's share of a minute).</summary>
    public static TokenBucketRateLimiterOptions PerMinute(int perMinute) => new()
    {
        TokenLimit = perMinute,
        TokensPerPeriod = Math.Max(1, perMinute / 60),
        ReplenishmentPeriod = TimeSpan.FromSeconds(perMinute >= 60 ? 1 : 60.0 / perMinute),
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>How long a refused caller should wait: what the limiter says, and at least a second.</summary>
    public static TimeSpan RetryAfter(RateLimitLease refused)
    {
        var retry = refused.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        return retry < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : retry;
    }

    public void Dispose()
    {
        foreach (var limiter in _limiters.Values)
        {
            limiter.Dispose();
        }
    }
}
