using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>
/// The <c>auth</c> rate limit: requests a minute per client address to what checks a password or sends a link
/// (<see cref="AccountOptions.AuthRequestsPerMinute"/>). Held here rather than inside the rate limiting middleware, so
/// the page forms that do the same (sign-in, sign-up, forgot password, the account page's email change) spend the same
/// budget as the API, and refuse with a message on the page instead of a bare 429.
/// </summary>
public sealed class AuthRequestLimit : IDisposable
{
    readonly PartitionedRateLimiter<string> _byAddress;

    public AuthRequestLimit(IOptions<AccountOptions> options)
    {
        var perMinute = options.Value.AuthRequestsPerMinute;
        _byAddress = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1) }));
    }

    /// <summary>Takes one request from the caller's address; false when its budget for the minute is spent.</summary>
    public bool TryAcquire(HttpContext http)
    {
        using var lease = _byAddress.AttemptAcquire(Address(http));
        return lease.IsAcquired;
    }

    /// <summary>The middleware policy's partition: the caller's address, counted in this limiter.</summary>
    public RateLimitPartition<string> Partition(HttpContext http) =>
        RateLimitPartition.Get(Address(http), address => new AddressShare(_byAddress, address));

    public void Dispose() => _byAddress.Dispose();

    static string Address(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "local";

    /// <summary>
    /// One address's view of the shared limiter, as the middleware holds it. It owns nothing: the middleware disposes
    /// the views idle for a while, and the shared limiter keeps the address's count until its window ends.
    /// </summary>
    sealed class AddressShare(PartitionedRateLimiter<string> limiter, string address) : RateLimiter
    {
        long _lastUsed = Stopwatch.GetTimestamp();

        public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUsed));

        public override RateLimiterStatistics? GetStatistics() => limiter.GetStatistics(address);

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
            return limiter.AttemptAcquire(address, permitCount);
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
        {
            Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
            return limiter.AcquireAsync(address, permitCount, cancellationToken);
        }
    }
}
