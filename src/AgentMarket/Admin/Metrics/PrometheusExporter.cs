using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace AgentMarket.Admin.Metrics;

/// <summary>
/// Listens to the <see cref="PlatformMeters"/> instruments and writes them in the Prometheus text format (0.0.4):
/// counters as <c>_total</c>, histograms as cumulative <c>_bucket</c>/<c>_sum</c>/<c>_count</c>. Neither the
/// OpenTelemetry exporter nor prometheus-net restores here (PACKAGES.md), and this is all /metrics needs.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    static readonly double[] Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

    readonly MeterListener _listener = new();
    readonly ConcurrentDictionary<(Instrument Instrument, string Labels), Series> _series = new();

    sealed class Series
    {
        public double Sum;
        public long Count;
        public readonly long[] BucketCounts = new long[Buckets.Length];
    }

    public PrometheusExporter()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == PlatformMeters.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var series = _series.GetOrAdd((instrument, Labels(tags)), _ => new Series());
        lock (series)
        {
            series.Sum += value;
            series.Count++;
            if (instrument is Histogram<double> or Histogram<long>)
            {
                for (var i = 0; i < Buckets.Length; i++)
                {
                    if (value <= Buckets[i])
                    {
                        series.BucketCounts[i]++;
                    }
                }
            }
        }
    }

    public string Scrape()
    {
        var text = new StringBuilder();
        foreach (var group in _series.ToArray().GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var histogram = instrument is Histogram<double> or Histogram<long>;
            var name = histogram ? instrument.Name : instrument.Name + "_total";
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
            text.Append("# TYPE ").Append(name).Append(histogram ? " histogram\n" : " counter\n");
            foreach (var ((_, labels), series) in group.OrderBy(s => s.Key.Labels, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (!histogram)
                    {
                        Line(text, name, labels, series.Sum);
                        continue;
                    }
                    for (var i = 0; i < Buckets.Length; i++)
                    {
                        Line(text, name + "_bucket", Join(labels, $"le=\"{Number(Buckets[i])}\""), series.BucketCounts[i]);
                    }
                    Line(text, name + "_bucket", Join(labels, "le=\"+Inf\""), series.Count);
                    Line(text, name + "_sum", labels, series.Sum);
                    Line(text, name + "_count", labels, series.Count);
                }
            }
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    static void Line(StringBuilder text, string name, string labels, double value) =>
        text.Append(name).Append(labels.Length > 0 ? "{" + labels + "}" : "").Append(' ').Append(Number(value)).Append('\n');

    static string Join(string labels, string more) => labels.Length > 0 ? labels + "," + more : more;

    static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }
        var pairs = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
        {
            pairs.Add($"{key}=\"{Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "")}\"");
        }
        pairs.Sort(StringComparer.Ordinal);
        return string.Join(",", pairs);
    }

    static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
