using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Admin.Metrics;

public sealed class MetricsOptions
{
    /// <summary>A bearer secret a Prometheus server may scrape with; without it only operators can read /metrics.</summary>
    public string? ScrapeSecret { get; set; }
}

/// <summary><c>GET /metrics</c> for operators (signed in or with a token) or a scraper presenting <c>Metrics:ScrapeSecret</c>; everyone else gets 404.</summary>
static class MetricsEndpoint
{
    public static void MapMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/metrics", Scrape).WithTags("Admin").WithName("Metrics").AllowAnonymous().ExcludeFromDescription();

    static IResult Scrape(HttpContext http, PrometheusExporter exporter, Microsoft.Extensions.Options.IOptionsMonitor<MetricsOptions> options)
    {
        if (!http.User.IsOperator() && !PresentsSecret(http, options.CurrentValue.ScrapeSecret))
        {
            return ApiProblem.NotFound();
        }
        return TypedResults.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8");
    }

    static bool PresentsSecret(HttpContext http, string? secret)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(secret) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim()), Encoding.UTF8.GetBytes(secret));
    }
}

static class RequestMetrics
{
    /// <summary>First in the pipeline, so refusals by later middleware are counted too; also starts the exporter's listener.</summary>
    public static void UseRequestMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<PrometheusExporter>();
        app.UseMiddleware<RequestMetricsMiddleware>();
    }
}

/// <summary>Counts and times every request (by method and status code, not path: paths carry ids).</summary>
sealed class RequestMetricsMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var tags = new TagList { { "method", context.Request.Method }, { "status", context.Response.StatusCode } };
            PlatformMeters.Requests.Add(1, tags);
            PlatformMeters.RequestDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }
}
