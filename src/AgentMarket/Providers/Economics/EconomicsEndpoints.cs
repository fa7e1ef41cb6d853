using System.Globalization;
using System.Text;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Mvc;

namespace AgentMarket.Providers.Economics;

/// <summary>
/// <c>GET /api/providers/mine/economics/?from=&amp;to=&amp;group_by=day|agent&amp;format=csv</c>: the calling organization's
/// provider's runs, revenue, earnings, commission, customers, cost and latency over UTC days (default: the last 30 by day),
/// with how many runs' token counts were bounded or estimated (ADR-172).
/// </summary>
static class EconomicsEndpoints
{
    public const int DefaultDays = DayRange.DefaultDays;

    public static void MapEconomics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/providers/mine/economics", GetAsync).WithTags("Providers").WithName("GetMyEconomics").RequireOrganization();

    static async Task<IResult> GetAsync(string? from, string? to, [FromQuery(Name = "group_by")] string? groupBy, string? format, ProviderEconomics economics, CancellationToken ct)
    {
        var csv = string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase);
        if (!csv && !string.IsNullOrEmpty(format) && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblem.Invalid("format", "Use json or csv.");
        }
        var (range, field, problem) = Parse(from, to, groupBy, economics.Today);
        if (range is null)
        {
            return ApiProblem.Invalid(field!, problem!);
        }
        if (await economics.MineAsync(ct) is not { } provider)
        {
            return ApiProblem.NotFound("provider");
        }
        var report = await economics.ReportAsync(provider.Id, range.Value.From, range.Value.To, range.Value.GroupBy, ct);
        return csv
            ? TypedResults.File(Encoding.UTF8.GetBytes(Csv(report)), "text/csv",
                string.Create(CultureInfo.InvariantCulture, $"earnings-{report.From:yyyy-MM-dd}-{report.To:yyyy-MM-dd}-{EnumNames<EconomicsGrouping>.ToName(report.GroupBy)}.csv"))
            : TypedResults.Ok(report);
    }

    /// <summary>The API's and the page's parameters; a problem names the parameter.</summary>
    public static ((DateOnly From, DateOnly To, EconomicsGrouping GroupBy)? Range, string? Field, string? Problem) Parse(string? from, string? to, string? groupBy, DateOnly today)
    {
        var (range, field, problem) = DayRange.Parse(from, to, today);
        if (range is not { } days)
        {
            return (null, field, problem);
        }
        var grouping = EconomicsGrouping.Day;
        if (!string.IsNullOrEmpty(groupBy) && !EnumNames<EconomicsGrouping>.TryParse(groupBy, out grouping))
        {
            return (null, "group_by", "Use day or agent.");
        }
        return ((days.From, days.To, grouping), null, null);
    }

    /// <summary>One line per day or agent; agent names are quoted and defused against spreadsheet formulas.</summary>
    public static string Csv(EconomicsReport report)
    {
        var csv = new StringBuilder(report.GroupBy == EconomicsGrouping.Day ? "day," : "listing,agent,")
            .Append("runs,succeeded,gross_credits,earnings_credits,commission_credits,promotional_credits,input_tokens,output_tokens,runs_bounded,runs_estimated,model_cost_credits,latency_avg_ms\n");
        foreach (var r in report.Rows)
        {
            csv.Append(report.GroupBy == EconomicsGrouping.Day
                ? string.Create(CultureInfo.InvariantCulture, $"{r.Day:yyyy-MM-dd},")
                : $"{r.Listing},{CsvText.Field(r.Agent)},");
            csv.Append(CultureInfo.InvariantCulture,
                $"{r.Runs},{r.Succeeded},{r.GrossCredits},{r.EarningsCredits},{r.CommissionCredits},{r.PromotionalCredits},{r.InputTokens},{r.OutputTokens},{r.RunsBounded},{r.RunsEstimated},{r.ModelCostCredits},{r.LatencyAvgMs}\n");
        }
        return csv.ToString();
    }
}
