using System.Globalization;
using System.Net;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

public sealed class ScrapeSecretApp : GatewayApp
{
    public const string Secret = "scrape-secret-for-tests";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [.. base.ExtraSettings(), new("Metrics:ScrapeSecret", Secret)];
}

/// <summary>/metrics in Prometheus text: readable by operators and the configured scraper only; the counters move with the work.</summary>
public class MetricsTests(ScrapeSecretApp app) : IClassFixture<ScrapeSecretApp>
{
    [Fact]
    public async Task Scrape_AfterARun_ShowsRequestRunLedgerAndJobCountersMoving()
    {
        var scraper = app.BearerClient(ScrapeSecretApp.Secret);
        var subscribed = await app.SubscribedAsync();
        var before = await ScrapeAsync(scraper);

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Count me"), HttpStatusCode.OK);
        var after = await ScrapeAsync(scraper);

        Assert.True(Value(after, "agentmarket_runs_total", "door=\"api\",status=\"succeeded\"") >= Value(before, "agentmarket_runs_total", "door=\"api\",status=\"succeeded\"") + 1);
        Assert.True(Value(after, "agentmarket_run_credits_total", "door=\"api\"") >= Value(before, "agentmarket_run_credits_total", "door=\"api\"") + 5);
        Assert.True(Value(after, "agentmarket_run_duration_seconds_count", "door=\"api\",status=\"succeeded\"") > Value(before, "agentmarket_run_duration_seconds_count", "door=\"api\",status=\"succeeded\""));
        Assert.True(Value(after, "agentmarket_ledger_operations_total", "kind=\"Settle\",status=\"Ok\"") > Value(before, "agentmarket_ledger_operations_total", "kind=\"Settle\",status=\"Ok\""));
        Assert.True(Value(after, "agentmarket_http_requests_total", "method=\"POST\",status=\"200\"") > Value(before, "agentmarket_http_requests_total", "method=\"POST\",status=\"200\""));
        // The credit jobs make a pass at start-up.
        Assert.True(Value(after, "agentmarket_job_runs_total", "job=\"credits\",outcome=\"succeeded\"") >= 1);
        Assert.Contains("# TYPE agentmarket_run_duration_seconds histogram", after, StringComparison.Ordinal);
        Assert.Contains("agentmarket_run_duration_seconds_bucket{door=\"api\",status=\"succeeded\",le=\"+Inf\"}", after, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_AreForOperatorsAndTheScraperOnly()
    {
        await Http.AssertStatusAsync(await (await app.OperatorAsync()).GetAsync("/metrics"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync("/metrics"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await (await app.SignUpAsync()).Client.GetAsync("/metrics"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await app.BearerClient("wrong-secret").GetAsync("/metrics"), HttpStatusCode.NotFound);
    }

    static async Task<string> ScrapeAsync(HttpClient client)
    {
        var response = await client.GetAsync("/metrics");
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sample of <paramref name="name"/> with exactly <paramref name="labels"/>, or 0 when it has none yet.</summary>
    static double Value(string exposition, string name, string labels)
    {
        var line = exposition.Split('\n').FirstOrDefault(l => l.StartsWith($"{name}{{{labels}}} ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
