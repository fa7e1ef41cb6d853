namespace AgentMarket.Gateway;

/// <summary>
/// The credits runs in flight may still spend against a key's budget or a chat session's credit cap. A cap is checked
/// against what is already spent (the database) plus what runs under way have reserved (held here until their run's
/// record, and with it the spend, is committed), and the check and the hold happen under one lock: so N concurrent runs
/// of a key with a budget for M go through M at most, as the wallet's reservations already ensure for the balance.
/// Only runs with such a cap take the lock; it is held for the cap's one query. Per process: replicas each enforce it
/// for their own runs (ADR-130).
/// </summary>
public sealed class SpendCapHolds : IDisposable
{
    readonly SemaphoreSlim _checking = new(1, 1);
    readonly Dictionary<string, long> _held = new(StringComparer.Ordinal);

    public void Dispose() => _checking.Dispose();

    public static string KeyCap(Guid key) => $"key:{key:N}";

    public static string SessionCap(Guid config, string session) => $"session:{config:N}:{session}";

    /// <summary>
    /// Runs <paramref name="check"/>, which is given what runs in flight hold against a cap, and holds
    /// <paramref name="amount"/> against every cap when it passes. Dispose the hold once the run's spend is committed.
    /// </summary>
    public async Task<(GatewayFailure? Failure, IDisposable? Hold)> HoldAsync(IReadOnlyList<string> caps, long amount,
        Func<Func<string, long>, Task<GatewayFailure?>> check, CancellationToken ct)
    {
        await _checking.WaitAsync(ct);
        try
        {
            if (await check(Held) is { } failure)
            {
                return (failure, null);
            }
            lock (_held)
            {
                foreach (var cap in caps)
                {
                    _held[cap] = _held.GetValueOrDefault(cap) + amount;
                }
            }
            return (null, new Hold(this, caps, amount));
        }
        finally
        {
            _checking.Release();
        }
    }

    long Held(string cap)
    {
        lock (_held)
        {
            return _held.GetValueOrDefault(cap);
        }
    }

    void Release(IReadOnlyList<string> caps, long amount)
    {
        lock (_held)
        {
            foreach (var cap in caps)
            {
                var left = _held.GetValueOrDefault(cap) - amount;
                if (left > 0)
                {
                    _held[cap] = left;
                }
                else
                {
                    _held.Remove(cap);
                }
            }
        }
    }

    sealed class Hold(SpendCapHolds holds, IReadOnlyList<string> caps, long amount) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                holds.Release(caps, amount);
            }
        }
    }
}
