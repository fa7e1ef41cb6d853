namespace AgentMarket.Usage;

/// <summary>
/// Run latencies as counts per value, so percentiles come from a <c>GROUP BY</c> of the database instead of every run's
/// row (SQLite has no percentile function and PostgreSQL's differs). Values are kept to three significant digits:
/// exact below a second, within 1% above it, which bounds a histogram at a few thousand entries whatever the traffic.
/// </summary>
public sealed class LatencyHistogram
{
    readonly SortedDictionary<int, long> _counts = [];

    public long Count { get; private set; }

    /// <summary>The value a latency is counted under; the same rounding is written in SQL in <see cref="UsageQueries"/>.</summary>
    public static int Bucket(int milliseconds) => milliseconds switch
    {
        < 1_000 => milliseconds,
        < 10_000 => milliseconds / 10 * 10,
        < 100_000 => milliseconds / 100 * 100,
        _ => milliseconds / 1_000 * 1_000,
    };

    public void Add(int milliseconds, long count)
    {
        if (count <= 0)
        {
            return;
        }
        _counts[milliseconds] = _counts.GetValueOrDefault(milliseconds) + count;
        Count += count;
    }

    public void Add(LatencyHistogram other)
    {
        foreach (var (milliseconds, count) in other._counts)
        {
            Add(milliseconds, count);
        }
    }

    /// <summary>The nearest-rank percentile (the smallest value with at least <paramref name="percent"/>% of runs at or below it), or null without runs.</summary>
    public int? Percentile(double percent)
    {
        if (Count == 0)
        {
            return null;
        }
        var rank = Math.Max(1, (long)Math.Ceiling(percent / 100 * Count));
        long seen = 0;
        foreach (var (milliseconds, count) in _counts)
        {
            seen += count;
            if (seen >= rank)
            {
                return milliseconds;
            }
        }
        return _counts.Keys.Last();
    }
}
