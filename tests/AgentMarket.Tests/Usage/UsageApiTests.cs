using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Usage;

/// <summary>GET /api/usage/ against runs made through the gateway: two keys, a signed-in member, the playground and a failure.</summary>
public class UsageApiTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    /// <summary>A buyer's runs at 5 credits each: key "server" twice and once failing, key "second" once, the chat page once, the playground once.</summary>
    async Task<(Subscribed Subscribed, Guid ServerKey, Guid SecondKey, List<AgentRun> Runs)> BuyerWithRunsAsync()
    {
        var subscribed = await app.SubscribedAsync();
        var buyer = subscribed.Buyer;
        var serverKey = await KeyIdAsync(subscribed);
        var (secondKey, secondSecret) = await buyer.CreateKeyAsync(subscribed.Config, new { Name = "second" });
        var failing = $"fail this usage run {Guid.NewGuid():N}";
        app.Model.When(failing, FakeReply.Fail(500));

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "one"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "two"), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, failing), HttpStatusCode.BadGateway, "model_error");
        await Http.AssertStatusAsync(await app.BearerClient(secondSecret).RunAsync(subscribed.Config, "three"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await buyer.Client.RunAsync(subscribed.Config, "from the chat page"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{subscribed.Agent.Slug}/try/", new { input = "playground" }), HttpStatusCode.OK);

        var runs = await app.InScopeAsync(buyer.OrganizationId, services => services.GetRequiredService<AppDbContext>().AgentRuns.AsNoTracking().ToListAsync());
        Assert.Equal(6, runs.Count);
        return (subscribed, serverKey, secondKey, runs);
    }

    [Fact]
    public async Task Usage_PerDay_AddsUpTheRuns_WithTokensAndLatencyPercentiles()
    {
        var (subscribed, _, _, runs) = await BuyerWithRunsAsync();

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/"));

        Assert.Equal("day", usage.GetProperty("group_by").GetString());
        var rows = usage.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(30, rows.Count);
        Assert.Equal(DateOnly.FromDateTime(app.Clock.GetUtcNow().UtcDateTime).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), rows[^1].GetProperty("day").GetString());
        Assert.Equal(rows.Select(r => r.GetProperty("day").GetString()).Order(StringComparer.Ordinal), rows.Select(r => r.GetProperty("day").GetString()));
        AssertFigures(usage.GetProperty("totals"), runs, runs: 6, succeeded: 5, errors: 1, credits: 25);
        Assert.True(runs.Sum(r => r.InputTokens) > 0 && runs.Sum(r => r.OutputTokens) > 0, "the fake model reports token usage");
        foreach (var day in runs.GroupBy(r => r.Day))
        {
            AssertMatches(rows.Single(r => r.GetProperty("day").GetString() == day.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)), day.ToList());
        }
        Assert.All(rows.Where(r => runs.All(run => run.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) != r.GetProperty("day").GetString())),
            quiet => Assert.Equal((0, JsonValueKind.Null), (quiet.GetProperty("runs").GetInt32(), quiet.GetProperty("latency_p50_ms").ValueKind)));
    }

    [Fact]
    public async Task Usage_PerAgent_SeparatesTheSubscriptionFromThePlayground()
    {
        var (subscribed, _, _, runs) = await BuyerWithRunsAsync();

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/?group_by=agent"));

        var rows = usage.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        var subscription = rows.Single(r => r.GetProperty("config").ValueKind != JsonValueKind.Null);
        Assert.Equal(subscribed.Config, subscription.GetProperty("config").GetGuid());
        Assert.Equal(subscribed.Agent.ListingId, subscription.GetProperty("listing").GetGuid());
        Assert.Equal(subscribed.Agent.Name, subscription.GetProperty("agent").GetString());
        AssertFigures(subscription, runs.Where(r => r.ConfigId is not null).ToList(), runs: 5, succeeded: 4, errors: 1, credits: 20);
        var playground = rows.Single(r => r.GetProperty("config").ValueKind == JsonValueKind.Null);
        Assert.Equal(subscribed.Agent.ListingId, playground.GetProperty("listing").GetGuid());
        AssertFigures(playground, runs.Where(r => r.ConfigId is null).ToList(), runs: 1, succeeded: 1, errors: 0, credits: 5);
    }

    [Fact]
    public async Task Usage_PerKey_NamesEachKey_AndGroupsRunsWithoutOne()
    {
        var (subscribed, serverKey, secondKey, runs) = await BuyerWithRunsAsync();

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/?group_by=key"));

        var rows = usage.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("key").ValueKind == JsonValueKind.Null ? Guid.Empty : r.GetProperty("key").GetGuid());
        Assert.Equal(3, rows.Count);
        Assert.Equal("server", rows[serverKey].GetProperty("key_name").GetString());
        Assert.StartsWith("am_live_", rows[serverKey].GetProperty("key_prefix").GetString(), StringComparison.Ordinal);
        AssertFigures(rows[serverKey], runs.Where(r => r.KeyId == serverKey).ToList(), runs: 3, succeeded: 2, errors: 1, credits: 10);
        Assert.Equal("second", rows[secondKey].GetProperty("key_name").GetString());
        AssertFigures(rows[secondKey], runs.Where(r => r.KeyId == secondKey).ToList(), runs: 1, succeeded: 1, errors: 0, credits: 5);
        AssertFigures(rows[Guid.Empty], runs.Where(r => r.KeyId is null).ToList(), runs: 2, succeeded: 2, errors: 0, credits: 10);
    }

    [Fact]
    public async Task Usage_OfOneSubscription_LeavesOutTheRest()
    {
        var (subscribed, _, _, runs) = await BuyerWithRunsAsync();

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/usage/?config={subscribed.Config}"));

        Assert.Equal(subscribed.Config, usage.GetProperty("config").GetGuid());
        AssertFigures(usage.GetProperty("totals"), runs.Where(r => r.ConfigId == subscribed.Config).ToList(), runs: 5, succeeded: 4, errors: 1, credits: 20);
    }

    [Fact]
    public async Task UsageCsv_HasAColumnPerFigure_AndDefusesFormulas()
    {
        var subscribed = await app.SubscribedAsync(key: new { Name = "=HYPERLINK(\"http://evil.example\")" });
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "csv"), HttpStatusCode.OK);

        var response = await subscribed.Buyer.Client.GetAsync("/api/usage/?group_by=key&format=csv");

        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal("key,key_name,key_prefix,runs,succeeded,errors,refused,credits_charged,input_tokens,output_tokens,bounded_runs,estimated_runs,latency_p50_ms,latency_p95_ms", lines[0]);
        var row = Assert.Single(lines[1..]);
        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\"", row, StringComparison.Ordinal);
        Assert.Contains(",1,1,0,0,5,", row, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACallRefusedBeforeTheAgentRan_IsCountedApart_NotAsARunOrAnError()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 200 });
        var subscribed = await app.SubscribedAsync(agent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "affordable"), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "not any more"), HttpStatusCode.PaymentRequired, "insufficient_credits");

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/?group_by=agent"));

        var row = Assert.Single(usage.GetProperty("rows").EnumerateArray());
        foreach (var figures in new[] { row, usage.GetProperty("totals") })
        {
            Assert.Equal((1, 1, 0, 1, 200L), (figures.GetProperty("runs").GetInt32(), figures.GetProperty("succeeded").GetInt32(),
                figures.GetProperty("errors").GetInt32(), figures.GetProperty("refused").GetInt32(), figures.GetProperty("credits_charged").GetInt64()));
        }
        var page = await subscribed.Buyer.Client.HtmlAsync("/my-agents/usage");
        Assert.Contains("data-usage=\"refused\">1<", page, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("from=2026-02-01&to=2026-01-01", "from")]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-01", "to")]
    [InlineData("from=2024-01-01&to=2025-12-31", "to")]
    [InlineData("group_by=week", "group_by")]
    [InlineData("format=xml", "format")]
    public async Task BadParameters_Return400_NamingTheParameter(string query, string field)
    {
        var buyer = await app.SignUpAsync();
        var problem = await Http.AssertProblemAsync(await buyer.Client.GetAsync($"/api/usage/?{query}"), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task AnotherOrganizationsSubscription_IsNotFound_AndItsRunsAreNotCounted()
    {
        var (victim, _, _, _) = await BuyerWithRunsAsync();
        var stranger = await app.SignUpAsync("Stranger");

        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/usage/?config={victim.Config}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/usage/?config={Guid.CreateVersion7()}"), HttpStatusCode.NotFound, "not_found");
        var own = await Http.ReadJsonAsync(await stranger.Client.GetAsync("/api/usage/?group_by=agent"));
        Assert.Equal(0, own.GetProperty("totals").GetProperty("runs").GetInt32());
        Assert.Empty(own.GetProperty("rows").EnumerateArray());
    }

    [Fact]
    public async Task ThePlanningDocumentsPath_AnswersTheSame()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello"), HttpStatusCode.OK);

        var usage = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/?group_by=agent"));
        var runtime = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/runtime/usage/?group_by=agent"));

        Assert.Equal(usage.GetRawText(), runtime.GetRawText());
    }

    /// <summary>A row's (or the totals') figures: the counts the scenario implies, then everything against the run records.</summary>
    static void AssertFigures(JsonElement row, List<AgentRun> records, int runs, int succeeded, int errors, long credits)
    {
        Assert.Equal((runs, succeeded, errors, credits),
            (row.GetProperty("runs").GetInt32(), row.GetProperty("succeeded").GetInt32(), row.GetProperty("errors").GetInt32(), row.GetProperty("credits_charged").GetInt64()));
        AssertMatches(row, records);
    }

    static void AssertMatches(JsonElement row, List<AgentRun> records)
    {
        var refused = records.Count(r => RunRefusals.Codes.Contains(r.ErrorCode));
        Assert.Equal(records.Count - refused, row.GetProperty("runs").GetInt32());
        Assert.Equal(records.Count(r => r.Status == AgentRunStatus.Succeeded), row.GetProperty("succeeded").GetInt32());
        Assert.Equal(records.Count(r => r.Status == AgentRunStatus.Failed) - refused, row.GetProperty("errors").GetInt32());
        Assert.Equal(refused, row.GetProperty("refused").GetInt32());
        Assert.Equal(records.Sum(r => r.CreditsCharged), row.GetProperty("credits_charged").GetInt64());
        Assert.Equal(records.Sum(r => r.InputTokens), row.GetProperty("input_tokens").GetInt64());
        Assert.Equal(records.Sum(r => r.OutputTokens), row.GetProperty("output_tokens").GetInt64());
        var latencies = records.Where(r => r.Status == AgentRunStatus.Succeeded).Select(r => LatencyHistogram.Bucket(r.LatencyMs)).Order().ToList();
        Assert.Equal(NearestRank(latencies, 50), Nullable(row.GetProperty("latency_p50_ms")));
        Assert.Equal(NearestRank(latencies, 95), Nullable(row.GetProperty("latency_p95_ms")));
    }

    /// <summary>The reference: sort every run's latency and take the nearest rank.</summary>
    static int? NearestRank(List<int> sorted, double percent) =>
        sorted.Count == 0 ? null : sorted[(int)Math.Ceiling(percent / 100 * sorted.Count) - 1];

    static int? Nullable(JsonElement value) => value.ValueKind == JsonValueKind.Null ? null : value.GetInt32();

    static async Task<Guid> KeyIdAsync(Subscribed subscribed) =>
        (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}")))
            .GetProperty("items")[0].GetProperty("uuid").GetGuid();
}
