using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AgentMarket.Admin.Metrics;

/// <summary>
/// The platform's instruments (<see cref="System.Diagnostics.Metrics"/>), recorded where the work happens — the request
/// pipeline, the run gateway, the ledger writer, the background jobs — and exported at <c>/metrics</c> by
/// <see cref="PrometheusExporter"/>. Names follow Prometheus conventions after the exporter adds <c>_total</c>.
/// </summary>
public static class PlatformMeters
{
    public const string MeterName = "AgentMarket";

    static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Requests = Meter.CreateCounter<long>("agentmarket_http_requests", description: "HTTP requests served, by method and status code.");
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("agentmarket_http_request_duration_seconds", "s", "Time to serve an HTTP request.");
    public static readonly Counter<long> Runs = Meter.CreateCounter<long>("agentmarket_runs", description: "Agent runs finished, by door and status.");
    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("agentmarket_run_duration_seconds", "s", "Wall time of an agent run.");
    public static readonly Counter<long> RunCredits = Meter.CreateCounter<long>("agentmarket_run_credits", description: "Credits charged for runs.");
    public static readonly Counter<long> LedgerOperations = Meter.CreateCounter<long>("agentmarket_ledger_operations", description: "Ledger commands, by kind and result.");
    public static readonly Counter<long> JobRuns = Meter.CreateCounter<long>("agentmarket_job_runs", description: "Background job passes, by job and outcome.");

    public static void RunFinished(string door, string status, long credits, TimeSpan elapsed)
    {
        var tags = new TagList { { "door", door }, { "status", status } };
        Runs.Add(1, tags);
        RunDuration.Record(elapsed.TotalSeconds, tags);
        if (credits > 0)
        {
            RunCredits.Add(credits, new KeyValuePair<string, object?>("door", door));
        }
    }

    public static void LedgerOperation(string kind, string status) =>
        LedgerOperations.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("status", status));

    public static readonly Counter<long> Emails = Meter.CreateCounter<long>("agentmarket_emails", description: "Outbox emails handled, by outcome (sent, deferred, failed, expired).");

    public static void EmailHandled(string outcome, long count = 1) => Emails.Add(count, new KeyValuePair<string, object?>("outcome", outcome));

    public static void JobRan(string job, bool succeeded) =>
        JobRuns.Add(1, new KeyValuePair<string, object?>("job", job), new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : "failed"));
}
