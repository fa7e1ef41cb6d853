using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity;

/// <summary>
/// Failed password checks counted per email and client address (ADR-134): <see cref="AccountOptions.LockoutThreshold"/>
/// failures in a row from one address stop that address from trying that email for
/// <see cref="AccountOptions.LockoutMinutes"/>, whether or not an account has the email, so a stranger can neither lock a
/// user out nor learn from a lockout that the account exists. Counted in memory per process, like the rate limits.
/// </summary>
public sealed class SignInThrottle(IOptions<AccountOptions> options, TimeProvider clock)
{
    /// <summary>Above this many tracked pairs, pairs neither locked nor failed within the lockout period are dropped.</summary>
    const int PruneAbove = 10_000;

    sealed record Attempts(int Failures, DateTime LastFailureUtc, DateTime? LockedUntilUtc);

    readonly ConcurrentDictionary<(string Email, string Address), Attempts> _attempts = new();

    // A password reset lifts every address's lockout of its email: pairs locked before it no longer count.
    readonly ConcurrentDictionary<string, DateTime> _clearedUtc = new(StringComparer.Ordinal);

    TimeSpan Lockout => TimeSpan.FromMinutes(options.Value.LockoutMinutes);

    /// <summary>How long <paramref name="address"/> must still wait before trying <paramref name="email"/> again, or null.</summary>
    public TimeSpan? LockedFor(string email, string address)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return _attempts.TryGetValue((email, address), out var attempts) && attempts.LockedUntilUtc > now && !ClearedSince(email, attempts.LastFailureUtc)
            ? attempts.LockedUntilUtc.Value - now
            : null;
    }

    /// <summary>Counts a failure; returns the lockout it starts, or null while the address may go on trying.</summary>
    public TimeSpan? Failed(string email, string address)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var threshold = options.Value.LockoutThreshold;
        var attempts = _attempts.AddOrUpdate((email, address),
            _ => Next(0),
            (_, earlier) => Next(earlier.LockedUntilUtc is not null || now - earlier.LastFailureUtc > Lockout || ClearedSince(email, earlier.LastFailureUtc) ? 0 : earlier.Failures));
        if (_attempts.Count > PruneAbove)
        {
            Prune(now);
        }
        return attempts.LockedUntilUtc - now;

        Attempts Next(int failures) => failures + 1 >= threshold ? new Attempts(0, now, now + Lockout) : new Attempts(failures + 1, now, null);
    }

    /// <summary>A right password from the address: its count starts again.</summary>
    public void Succeeded(string email, string address) => _attempts.TryRemove((email, address), out _);

    /// <summary>The email's password was reset: every address may try again.</summary>
    public void Clear(string email) => _clearedUtc[email] = clock.GetUtcNow().UtcDateTime;

    bool ClearedSince(string email, DateTime failureUtc) => _clearedUtc.TryGetValue(email, out var cleared) && cleared >= failureUtc;

    void Prune(DateTime now)
    {
        foreach (var (key, attempts) in _attempts)
        {
            if (now - attempts.LastFailureUtc > Lockout && !(attempts.LockedUntilUtc > now))
            {
                _attempts.TryRemove(key, out _);
            }
        }
        foreach (var (email, cleared) in _clearedUtc)
        {
            if (now - cleared > Lockout)
            {
                _clearedUtc.TryRemove(email, out _);
            }
        }
    }
}
