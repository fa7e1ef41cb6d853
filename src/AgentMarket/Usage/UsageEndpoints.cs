using System.Globalization;
using System.Text;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Mvc;

namespace AgentMarket.Usage;

/// <summary>
/// <c>GET /api/usage/?from=&amp;to=&amp;group_by=day|agent|key&amp;config=&amp;format=csv</c>: the organization's runs,
/// credits, tokens, p50/p95 latency and errors per day, agent or key, with totals (default: the last 30 days by day).
/// The planning documents' <c>/api/runtime/usage/</c> answers the same (SPEC §10 keeps their paths).
/// </summary>
static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/usage", GetUsageAsync).WithTags("Usage").WithName("GetUsage").RequireOrganization();
        routes.MapGet("/api/runtime/usage", GetUsageAsync).WithTags("Usage").WithName("GetRuntimeUsage").RequireOrganization();
    }

    static async Task<IResult> GetUsageAsync(string? from, string? to, [FromQuery(Name = "group_by")] string? groupBy, Guid? config, string? format,
        UsageQueries usage, CancellationToken ct)
    {
        var csv = string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase);
        if (!csv && !string.IsNullOrEmpty(format) && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblem.Invalid("format", "Use json or csv.");
        }
        var (query, field, problem) = UsageQuery.Parse(from, to, groupBy, config, usage.Today);
        if (query is null)
        {
            return ApiProblem.Invalid(field!, problem!);
        }
        if (await usage.ReportAsync(query, ct) is not { } report)
        {
            return ApiProblem.NotFound("agent");
        }
        return csv
            ? TypedResults.File(Encoding.UTF8.GetBytes(UsageCsv.Write(report)), "text/csv",
                string.Create(CultureInfo.InvariantCulture, $"usage-{report.From:yyyy-MM-dd}-{report.To:yyyy-MM-dd}-{EnumNames<UsageGrouping>.ToName(report.GroupBy)}.csv"))
            : TypedResults.Ok(report);
    }
}
