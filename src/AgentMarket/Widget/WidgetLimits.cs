using System.Net;
using System.Threading.RateLimiting;
using AgentMarket.Keys;
using Microsoft.Extensions.Options;

namespace AgentMarket.Widget;

/// <summary>
/// The widget's own limits, on top of the key's rate limit, budget and the session credit cap that the gateway applies
/// to every run: messages per visitor, and sessions per client address (a visitor who throws their visitor id away to
/// escape the first limit needs new sessions, and meets the second). In process, per replica, like
/// <see cref="KeyRateLimits"/>; the partitioned limiters drop idle visitors by themselves, so memory stays bounded.
/// </summary>
public sealed class WidgetLimits : IDisposable
{
    readonly PartitionedRateLimiter<string> _visitorMessages;
    readonly PartitionedRateLimiter<string> _addressSessions;

    public WidgetLimits(IOptions<WidgetOptions> options)
    {
        var messages = options.Value.VisitorMessagesPerMinute;
        var sessions = options.Value.SessionsPerMinutePerAddress;
        _visitorMessages = PartitionedRateLimiter.Create<string, string>(visitor => RateLimitPartition.GetTokenBucketLimiter(visitor, _ => KeyRateLimits.PerMinute(messages)));
        _addressSessions = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetTokenBucketLimiter(address, _ => KeyRateLimits.PerMinute(sessions)));
    }

    /// <summary>Null when the visitor may send a message now; otherwise how long to wait.</summary>
    public TimeSpan? RefuseMessage(Guid keyId, string visitorId) => Refuse(_visitorMessages, $"{keyId:N}/{visitorId}");

    /// <summary>Null when this address may open a session now; otherwise how long to wait.</summary>
    public TimeSpan? RefuseSession(Guid keyId, IPAddress? address) => Refuse(_addressSessions, $"{keyId:N}/{address}");

    static TimeSpan? Refuse(PartitionedRateLimiter<string> limiter, string partition)
    {
        using var lease = limiter.AttemptAcquire(partition);
        return lease.IsAcquired ? null : KeyRateLimits.RetryAfter(lease);
    }

    public void Dispose()
    {
        _visitorMessages.Dispose();
        _addressSessions.Dispose();
    }
}
