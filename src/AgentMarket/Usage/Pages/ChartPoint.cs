namespace AgentMarket.Usage.Pages;

/// <summary>One bar of a <see cref="BarChart"/>: its full label (for the data table and tooltips), a short axis label and its value.</summary>
public sealed record ChartPoint(string Label, string AxisLabel, long Value)
{
    /// <summary>One point per day of a by-day usage report.</summary>
    public static List<ChartPoint> PerDay(UsageReport report, Func<UsageRow, long> value) =>
        report.Rows.Where(r => r.Day is not null)
            .Select(r => new ChartPoint(
                r.Day!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                r.Day.Value.ToString("d MMM", System.Globalization.CultureInfo.InvariantCulture),
                value(r)))
            .ToList();
}
