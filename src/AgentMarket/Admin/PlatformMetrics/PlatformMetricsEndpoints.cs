using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Admin.PlatformMetrics;

/// <summary><c>GET /api/admin/platform-metrics/?days=30</c>: the platform's figures over the last <c>days</c> UTC days (1–366), operators only.</summary>
static class PlatformMetricsEndpoints
{
    public static void MapPlatformMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/admin/platform-metrics", GetAsync).WithTags("Admin").WithName("AdminPlatformMetrics").RequireOperator();

    static async Task<IResult> GetAsync(string? days, PlatformMetricsQueries metrics, CancellationToken ct)
    {
        if (ParseDays(days) is not { } count)
        {
            return ApiProblem.Invalid("days", $"Use a whole number of days from 1 to {PlatformMetricsQueries.MaxDays}.");
        }
        return TypedResults.Ok(await metrics.ReportAsync(count, ct));
    }

    /// <summary>The API's and the page's <c>days</c>: the default when absent, null when it is not 1–366.</summary>
    public static int? ParseDays(string? days) =>
        string.IsNullOrEmpty(days) ? PlatformMetricsQueries.DefaultDays
        : int.TryParse(days, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= PlatformMetricsQueries.MaxDays ? n
        : null;
}
