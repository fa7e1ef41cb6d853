using System.Collections.Concurrent;

namespace AgentMarket.Gateway;

/// <summary>
/// Concurrent sessions per organization (SPEC §3: runs in progress at once, across every front door). Counted in process;
/// with several replicas each enforces the plan's limit on its own share of the traffic.
/// </summary>
public sealed class RunSlots
{
    readonly ConcurrentDictionary<Guid, int> _running = new();

    /// <summary>Takes a slot if fewer than <paramref name="limit"/> runs are in progress; dispose the lease to give it back.</summary>
    public Lease? TryEnter(Guid organization, int limit)
    {
        while (true)
        {
            var current = _running.GetOrAdd(organization, 0);
            if (current >= limit)
            {
                return null;
            }
            if (_running.TryUpdate(organization, current + 1, current))
            {
                return new Lease(this, organization);
            }
        }
    }

    void Leave(Guid organization) => _running.AddOrUpdate(organization, 0, (_, n) => Math.Max(0, n - 1));

    public sealed class Lease(RunSlots slots, Guid organization) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Leave(organization);
            }
        }
    }
}
