using System.Globalization;
using System.Text;
using AgentMarket.Platform.Api;

namespace AgentMarket.Usage;

/// <summary>A usage report as CSV: one line per row, the grouping's columns first, then the figures.</summary>
static class UsageCsv
{
    const string Figures = "runs,succeeded,errors,refused,credits_charged,input_tokens,output_tokens,bounded_runs,estimated_runs,latency_p50_ms,latency_p95_ms";

    public static string Write(UsageReport report)
    {
        var csv = new StringBuilder(report.GroupBy switch
        {
            UsageGrouping.Day => "day,",
            UsageGrouping.Agent => "config,listing,agent,",
            UsageGrouping.Key => "key,key_name,key_prefix,",
            _ => throw new ArgumentOutOfRangeException(nameof(report)),
        }).Append(Figures).Append('\n');
        foreach (var r in report.Rows)
        {
            csv.Append(report.GroupBy switch
            {
                UsageGrouping.Day => $"{r.Day:yyyy-MM-dd},",
                UsageGrouping.Agent => $"{r.Config},{r.Listing},{CsvText.Field(r.Agent)},",
                _ => $"{r.Key},{CsvText.Field(r.KeyName)},{CsvText.Field(r.KeyPrefix)},",
            });
            csv.Append(CultureInfo.InvariantCulture,
                $"{r.Runs},{r.Succeeded},{r.Errors},{r.Refused},{r.CreditsCharged},{r.InputTokens},{r.OutputTokens},{r.BoundedRuns},{r.EstimatedRuns},{r.LatencyP50Ms},{r.LatencyP95Ms}\n");
        }
        return csv.ToString();
    }
}
