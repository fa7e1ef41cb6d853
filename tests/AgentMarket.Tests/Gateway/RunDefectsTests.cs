using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Gateway;
using AgentMarket.Runtime;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// The gateway app whose next read of a version's flow (what compiling a plan reads) can be made to fail once, and whose
/// outbound guard lets flows and buyers name the fake model server on loopback as an endpoint of their own.
/// </summary>
public sealed class RunDefectsApp : GatewayApp
{
    public FailNextFlowRead FlowReads { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Flows:OutboundAllowList:0", "127.0.0.1/32")];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(FlowReads));
    }
}

/// <summary>Once armed, fails the next query that reads an agent version's flow, as a database blip would.</summary>
public sealed class FailNextFlowRead : DbCommandInterceptor
{
    int _armed;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        if (command.CommandText.Contains("flow_json", StringComparison.Ordinal) && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            throw new InvalidOperationException("The database went away while reading the flow.");
        }
        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}

/// <summary>Runs whose agent cannot be loaded for a moment (ADR-153).</summary>
public class AgentLoadFailureTests(RunDefectsApp app) : IClassFixture<RunDefectsApp>
{
    [Fact]
    public async Task ACompileThatFailsOnce_ReleasesTheReservation_EndsTheKeysRun_AndTheNextRunCompilesAgain()
    {
        var subscribed = await app.SubscribedAsync();
        var before = await subscribed.Buyer.BalanceAsync();
        var key = Guid.NewGuid().ToString();

        app.FlowReads.Arm();
        var failed = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: key),
            HttpStatusCode.ServiceUnavailable, "service_unavailable");
        Assert.Contains("nothing was charged", failed.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Nothing stays reserved, and the key's record is finished: a retry with it is told the run failed, not that it is in progress.
        var after = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((before.GetProperty("balance").GetInt64(), before.GetProperty("reserved").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("reserved").GetInt64()));
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "service_unavailable"), (run.Status, run.ErrorCode));
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: key), HttpStatusCode.Conflict, "idempotency_conflict");

        // The failure was not remembered: the version compiles on the next run.
        var answered = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello", idempotencyKey: Guid.NewGuid().ToString()));
        Assert.False(string.IsNullOrEmpty(answered.GetProperty("output").GetString()));
        Assert.True(answered.GetProperty("credits_charged").GetInt64() > 0);
    }
}

/// <summary>Model endpoints a buyer or a flow names cannot make the platform read unbounded answers (ADR-153).</summary>
public class UnboundedModelAnswerTests(RunDefectsApp app) : IClassFixture<RunDefectsApp>
{
    [Fact]
    public async Task AnAnswerLargerThanTheOutboundCap_FromTheBuyersEndpoint_FailsTheRunAsAModelError_AndChargesNothing()
    {
        var subscribed = await OwnEndpointAsync();
        var word = CatalogIntents.UniqueWord();
        var cap = app.Services.GetRequiredService<PlatformOutbound>().Guard.Policy.MaxResponseBytes;
        app.Model.When(word, FakeReply.Say(new string('x', (int)cap + 1)));
        var before = await subscribed.Buyer.BalanceAsync();

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"answer at length {word}"), HttpStatusCode.BadGateway, "model_error");

        await AssertNothingChargedAsync(subscribed, before);
    }

    [Fact]
    public async Task ToolCallArgumentsThatNeverEnd_FromTheBuyersEndpoint_FailTheStreamedRunAsAModelError_AndChargeNothing()
    {
        var subscribed = await OwnEndpointAsync();
        var word = CatalogIntents.UniqueWord();
        var endless = $$"""{"query":"{{new string('q', 3 * 1024 * 1024)}}"}""";
        app.Model.When(word, FakeReply.Call("lookup", endless) with { ArgumentChunkSize = 16 * 1024 });
        var before = await subscribed.Buyer.BalanceAsync();

        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = $"call a tool {word}" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        // No token came before the failure, so it is answered as a problem rather than an event.
        await Http.AssertProblemAsync(await subscribed.KeyClient.SendAsync(request), HttpStatusCode.BadGateway, "model_error");
        await AssertNothingChargedAsync(subscribed, before);
    }

    async Task<Subscribed> OwnEndpointAsync()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { base_url = app.Model.BaseUrl.ToString(), model = "their-model", api_key = "their-key" } }), HttpStatusCode.OK);
        return subscribed;
    }

    async Task AssertNothingChargedAsync(Subscribed subscribed, JsonElement before)
    {
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "model_error", 0L), (run.Status, run.ErrorCode, run.CreditsCharged));
        var after = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((before.GetProperty("balance").GetInt64(), before.GetProperty("reserved").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("reserved").GetInt64()));
    }
}

/// <summary>A failed run leaves nothing in the session's memory: neither the user's turn nor half an answer (ADR-153, ADR-160).</summary>
public class BrokenAnswerMemoryTests(RunDefectsApp app) : IClassFixture<RunDefectsApp>
{
    [Fact]
    public async Task ARunTheModelFails_LeavesNoUnansweredQuestionInTheNextRunsMemory()
    {
        var subscribed = await app.SubscribedAsync(await app.MemoryAgentAsync());
        var question = CatalogIntents.UniqueWord();
        // Only the turn that asks it fails: were the question remembered, the next run must still be answered to show it.
        app.Model.When(r => r.LastUser?.Contains(question, StringComparison.Ordinal) == true, FakeReply.Fail(500));
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"Remember this {question}", "failing"),
            HttpStatusCode.BadGateway, "model_error");

        var next = CatalogIntents.UniqueWord();
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"What did I ask {next}?", "failing"));
        var prompt = app.Model.Requests.Last(r => r.Prompt.Contains(next, StringComparison.Ordinal)).Prompt;
        Assert.DoesNotContain(question, prompt, StringComparison.Ordinal);
        // The failed run is still on record, uncharged.
        var runs = await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config);
        Assert.Contains(runs, r => (r.Status, r.ErrorCode, r.CreditsCharged) == (AgentRunStatus.Failed, "model_error", 0L));
    }

    [Fact]
    public async Task AStreamedAnswerThatFailsAfterItsFirstToken_IsNotInTheNextRunsMemory()
    {
        var subscribed = await app.SubscribedAsync(await app.MemoryAgentAsync());
        var (question, marker) = (CatalogIntents.UniqueWord(), CatalogIntents.UniqueWord());
        app.Model.When(question, FakeReply.Say($"{marker} begins a story that never ends") with { ChunkSize = marker.Length, BreakAfterChunks = 3 });

        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = $"Tell me a story {question}", session_id = "story" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        var events = ServerSentEvents.Parse(await (await subscribed.KeyClient.SendAsync(request)).Content.ReadAsStringAsync());
        Assert.Contains(events, e => e.Name == "token" && e.Data.GetProperty("chunk").GetString() == marker);
        Assert.Equal("error", events.Last().Name);

        var next = CatalogIntents.UniqueWord();
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, $"What did you say {next}?", "story"));
        var prompt = app.Model.Requests.Last(r => r.Prompt.Contains(next, StringComparison.Ordinal)).Prompt;
        Assert.DoesNotContain(question, prompt, StringComparison.Ordinal);
        Assert.DoesNotContain(marker, prompt, StringComparison.Ordinal);
    }
}

/// <summary>A streamed answer the endpoint never finished is not charged as complete (ADR-153).</summary>
public class UnfinishedStreamTests(RunDefectsApp app) : IClassFixture<RunDefectsApp>
{
    [Fact]
    public async Task AStreamThatClosesWithoutAFinishReason_FailsTheRunAsAModelError_AndChargesNothing()
    {
        var subscribed = await app.SubscribedAsync();
        var word = CatalogIntents.UniqueWord();
        app.Model.When(word, FakeReply.Say("An answer the server stops sending half way through") with { ChunkSize = 6, EndAfterChunks = 4 });
        var before = await subscribed.Buyer.BalanceAsync();

        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = $"please stream {word}" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        var events = ServerSentEvents.Parse(await (await subscribed.KeyClient.SendAsync(request)).Content.ReadAsStringAsync());

        Assert.Contains(events, e => e.Name == "token");
        Assert.Equal(("error", "model_error"), (events.Last().Name, events.Last().Data.GetProperty("code").GetString()));
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "model_error", 0L), (run.Status, run.ErrorCode, run.CreditsCharged));
        var after = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((before.GetProperty("balance").GetInt64(), before.GetProperty("reserved").GetInt64()),
            (after.GetProperty("balance").GetInt64(), after.GetProperty("reserved").GetInt64()));
    }
}
