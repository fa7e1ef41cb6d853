using AgentMarket.Usage;

namespace AgentMarket.Tests.Usage;

public class LatencyHistogramTests
{
    [Fact]
    public void Percentiles_AreNearestRank_OverTheCounts()
    {
        var histogram = new LatencyHistogram();
        foreach (var ms in new[] { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 })
        {
            histogram.Add(ms, 1);
        }
        Assert.Equal(50, histogram.Percentile(50));
        Assert.Equal(100, histogram.Percentile(95));
        Assert.Equal(10, histogram.Percentile(1));
        Assert.Equal(100, histogram.Percentile(100));
    }

    [Fact]
    public void Counts_WeighTheirValues_AndMergedHistogramsAddUp()
    {
        var fast = new LatencyHistogram();
        fast.Add(5, 96);
        var slow = new LatencyHistogram();
        slow.Add(900, 4);
        var all = new LatencyHistogram();
        all.Add(fast);
        all.Add(slow);
        Assert.Equal(100, all.Count);
        Assert.Equal(5, all.Percentile(50));
        Assert.Equal(5, all.Percentile(95));
        Assert.Equal(900, all.Percentile(97));
    }

    [Fact]
    public void AnEmptyHistogram_HasNoPercentiles() => Assert.Null(new LatencyHistogram().Percentile(50));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(999, 999)]
    [InlineData(1_234, 1_230)]
    [InlineData(12_345, 12_300)]
    [InlineData(123_456, 123_000)]
    public void Buckets_KeepThreeSignificantDigits(int milliseconds, int bucket) => Assert.Equal(bucket, LatencyHistogram.Bucket(milliseconds));
}
