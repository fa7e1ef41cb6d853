using System.Globalization;
using System.Text;

namespace AgentMarket.Usage;

/// <summary>A usage report as CSV: one line per row, the grouping's columns first, then the figures.</summary>
static class UsageCsv
{
    const string Figures = "runs,succeeded,errors,credits_charged,input_tokens,output_tokens,latency_p50_ms,latency_p95_ms";

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
                UsageGrouping.Agent => $"{r.Config},{r.Listing},{Field(r.Agent)},",
                _ => $"{r.Key},{Field(r.KeyName)},{Field(r.KeyPrefix)},",
            });
            csv.Append(CultureInfo.InvariantCulture,
                $"{r.Runs},{r.Succeeded},{r.Errors},{r.CreditsCharged},{r.InputTokens},{r.OutputTokens},{r.LatencyP50Ms},{r.LatencyP95Ms}\n");
        }
        return csv.ToString();
    }

    /// <summary>Quotes a text field, and defuses values a spreadsheet would run as a formula (as the credits history does).</summary>
    static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }
}
