using System.Globalization;

namespace AgentMarket.Bench;

/// <summary>Percentiles over a set of samples, printed in one line per measurement.</summary>
sealed class Measurements(string name)
{
    readonly List<double> _samples = [];

    public string Name { get; } = name;
    public int Count => _samples.Count;

    public void Add(double value) => _samples.Add(value);

    public double Percentile(double p)
    {
        if (_samples.Count == 0)
        {
            return double.NaN;
        }
        var sorted = _samples.Order().ToArray();
        var rank = Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[rank];
    }

    public string Summary(string unit) => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-40} n={Count,6}  p50={Percentile(50),9:0.###} {unit}  p90={Percentile(90),9:0.###} {unit}  p99={Percentile(99),9:0.###} {unit}  max={Percentile(100),9:0.###} {unit}");
}
