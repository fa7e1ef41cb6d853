using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>
/// The <c>auth</c> rate limit: requests a minute per client address to what checks a password or sends a link
/// (<see cref="AccountOptions.AuthRequestsPerMinute"/>). Held here rather than inside the rate limiting middleware, so
/// the page forms that do the same (sign-in, sign-up, forgot password, the account page's email change) spend the same
/// budget as the API, and refuse with a message on the page instead of a bare 429.
/// </summary>
/// <remarks>
/// Counted in whole minutes of the app's clock, one small record per address, rather than with
/// System.Threading.RateLimiting's limiters, which run on real time with a replenishing limiter per address: the app's
/// clock makes the limit exact in tests, and records whose minute has passed are dropped when many addresses are counted.
/// An IPv6 client is counted by its /64, the block one subscriber gets; by its full address it would have billions of
/// budgets.
/// </remarks>
public sealed class AuthRequestLimit(IOptions<AccountOptions> options, TimeProvider clock)
{
    // A flood of addresses costs memory until the next minute's first request over this many prunes the past ones.
    const int PruneAbove = 10_000;

    readonly ConcurrentDictionary<string, Window> _windows = new();

    sealed class Window
    {
        public long Minute;
        public int Count;
    }

    /// <summary>Takes one request from the caller's address; false when its budget for the minute is spent.</summary>
    public bool TryAcquire(HttpContext http) => Acquire(Address(http)) is null;

    /// <summary>The middleware policy's partition: the caller's address, counted here.</summary>
    public RateLimitPartition<string> Partition(HttpContext http) =>
        RateLimitPartition.Get(Address(http), address => new AddressShare(this, address));

    /// <summary>Takes one request from <paramref name="address"/>'s minute; null when taken, else the wait until the next minute.</summary>
    TimeSpan? Acquire(string address)
    {
        var now = clock.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        if (_windows.Count > PruneAbove)
        {
            foreach (var (key, past) in _windows)
            {
                if (Volatile.Read(ref past.Minute) < minute)
                {
                    _windows.TryRemove(key, out _);
                }
            }
        }
        var window = _windows.GetOrAdd(address, _ => new Window { Minute = minute });
        lock (window)
        {
            if (window.Minute != minute)
            {
                (window.Minute, window.Count) = (minute, 0);
            }
            if (window.Count < options.Value.AuthRequestsPerMinute)
            {
                window.Count++;
                return null;
            }
        }
        return DateTimeOffset.FromUnixTimeSeconds((minute + 1) * 60) - now;
    }

    /// <summary>The client's address as limits count it (the playground's allowance too): an IPv6 client by its /64.</summary>
    internal static string Address(HttpContext http) => http.Connection.RemoteIpAddress switch
    {
        null => "local",
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        { AddressFamily: AddressFamily.InterNetworkV6 } v6 => Prefix64(v6),
        var v4 => v4.ToString(),
    };

    static string Prefix64(IPAddress address)
    {
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return $"{new IPAddress(bytes)}/64";
    }

    /// <summary>
    /// One address's view of the limit, as the middleware holds it. It owns nothing: the middleware disposes the views
    /// idle for a while, and the address's count stays here until its minute ends.
    /// </summary>
    sealed class AddressShare(AuthRequestLimit limit, string address) : RateLimiter
    {
        long _lastUsed = Stopwatch.GetTimestamp();

        public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUsed));

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
            return new Lease(limit.Acquire(address));
        }

        // Nothing waits in a queue: a request over the budget is refused at once, with when to come back.
        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));
    }

    sealed class Lease(TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => retryAfter is null;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter is { } wait && metadataName == MetadataName.RetryAfter.Name ? wait : null;
            return metadata is not null;
        }
    }
}
