using System.Net;
using System.Net.Http.Json;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>From subscribing to a paid run through the gateway, with the buyer's persona reaching the model.</summary>
public class RunJourneyTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task Subscribe_Configure_Key_Run_ChargesExactlyOnce_WithTheBuyersPersona()
    {
        var agent = await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync("Persona Buyer");
        var config = await buyer.SubscribeAsync(agent);

        var persona = "You are Captain Byte. Answer in one sentence, like a pirate.";
        var configured = await Http.ReadJsonAsync(await buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{config}/", new { persona = new { system_prompt = persona } }));
        Assert.Equal(persona, configured.GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("key").GetString() == "system_prompt").GetProperty("value").GetString());

        var (_, key) = await buyer.CreateKeyAsync(config);
        Assert.StartsWith("am_live_", key, StringComparison.Ordinal);
        app.Model.When(r => r.System?.Contains("Captain Byte", StringComparison.Ordinal) == true && r.LastUser == "Where is the treasure?", FakeReply.Say("Arr, under the old oak!"));

        var response = await app.BearerClient(key).RunAsync(config, "Where is the treasure?");
        var run = await Http.ReadJsonAsync(response);
        Assert.Equal("Arr, under the old oak!", run.GetProperty("output").GetString());
        Assert.Equal(5, run.GetProperty("credits_charged").GetInt64());
        Assert.Equal(345, run.GetProperty("balance").GetInt64());
        Assert.NotEqual(Guid.Empty, run.GetProperty("run_id").GetGuid());
        Assert.True(double.Parse(response.Headers.GetValues("X-Gateway-Overhead-Ms").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 0);

        var modelCall = app.Model.Requests.Last(r => r.LastUser == "Where is the treasure?");
        Assert.Contains(persona, modelCall.System, StringComparison.Ordinal);
        Assert.Equal("operator-default-model", modelCall.Model);

        var balance = await buyer.BalanceAsync();
        Assert.Equal((345L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var spend = await Http.ReadJsonAsync(await buyer.Client.GetAsync("/api/credits/transactions/?type=spend"));
        Assert.Equal(-5, Assert.Single(spend.GetProperty("items").EnumerateArray()).GetProperty("amount").GetInt64());
        // The storefront's counters follow the run's answer (ADR-052); they do not wait for it.
        await app.Services.GetRequiredService<RunProjector>().CaughtUpAsync(default);
        Assert.Equal(1, (await app.CardAsync(agent)).GetProperty("stats").GetProperty("runs").GetInt64());
    }

    [Fact]
    public async Task Session_KeepsMemoryAcrossRuns_ForTheSameSubscriptionOnly()
    {
        var subscribed = await app.SubscribedAsync(await app.MemoryAgentAsync());
        var first = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "My name is Ada."));
        var session = first.GetProperty("session_id").GetString()!;
        await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "What is my name?", session));

        var second = app.Model.Requests.Last(r => r.Prompt.Contains("What is my name?", StringComparison.Ordinal));
        Assert.Contains("My name is Ada.", second.Prompt, StringComparison.Ordinal);

        // Another buyer who guesses the session id sees none of it.
        var stranger = await app.SubscribedAsync(subscribed.Agent);
        await Http.ReadJsonAsync(await stranger.KeyClient.RunAsync(stranger.Config, "Who am I?", session));
        var strangers = app.Model.Requests.Last(r => r.Prompt.Contains("Who am I?", StringComparison.Ordinal));
        Assert.DoesNotContain("My name is Ada.", strangers.Prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignedInMember_CanRunWithoutAKey()
    {
        var subscribed = await app.SubscribedAsync();
        var run = await Http.ReadJsonAsync(await subscribed.Buyer.Client.RunAsync(subscribed.Config, "Hello from the chat page"));
        Assert.Equal("I am the default answer.", run.GetProperty("output").GetString());
    }

    [Fact]
    public async Task IdempotencyKey_ReturnsTheFirstRun_AndChargesOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var key = Guid.NewGuid().ToString();
        var first = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Once please", idempotencyKey: key));
        var again = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Once please", idempotencyKey: key));
        Assert.Equal(first.GetProperty("run_id").GetGuid(), again.GetProperty("run_id").GetGuid());
        Assert.Equal(345, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task AStreamingClientThatLeavesMidAnswer_DoesNotStopTheRun_WhichIsChargedOnce_AndReplaysForItsKey()
    {
        var subscribed = await app.SubscribedAsync();
        const string answer = "An answer long enough that the client leaves before its end.";
        app.Model.When("leave early", FakeReply.Say(answer) with { ChunkSize = 4, ChunkDelay = TimeSpan.FromMilliseconds(40) });
        var key = Guid.NewGuid().ToString();
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = "I will leave early" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        request.Headers.Add("Idempotency-Key", key);
        using (var response = await subscribed.KeyClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.Equal("event: token", await reader.ReadLineAsync());
        } // disposing the response aborts the request: the client is gone with the first words of the answer

        // The run went on without its client; once recorded, a retry with its key gets the whole answer, not a second run.
        HttpResponseMessage? retried = null;
        await DoorIntents.EventuallyAsync(async () =>
            (retried = await subscribed.KeyClient.RunAsync(subscribed.Config, "I will leave early", idempotencyKey: key)).StatusCode != HttpStatusCode.Conflict,
            "the abandoned stream's run is recorded");
        var replay = await Http.ReadJsonAsync(retried!);
        Assert.Equal(answer, replay.GetProperty("output").GetString());
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Succeeded, 5L), (run.Status, run.CreditsCharged));
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((345L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("\t")]
    public async Task ABlankIdempotencyKey_IsRefused_AndRunsNothing(string blank)
    {
        var subscribed = await app.SubscribedAsync();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/") { Content = JsonContent.Create(new { input = "blank key" }) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", blank);

        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.SendAsync(request), HttpStatusCode.BadRequest, "validation_failed");

        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(null)]
    public async Task ABlankInput_IsRefused_BeforeAnythingIsCharged(string? blank)
    {
        var subscribed = await app.SubscribedAsync();
        var calls = app.Model.Requests.Count;
        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.PostAsJsonAsync($"/api/agents/{subscribed.Config}/run/", new { input = blank }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("input", out _));
        await Http.AssertProblemAsync(await app.CreateClient().PostAsJsonAsync($"/api/marketplace/agents/{subscribed.Agent.Slug}/try/", new { input = blank }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal(calls, app.Model.Requests.Count);
    }

    [Fact]
    public async Task IdempotencyKey_OfARunWhoseProcessStopped_IsInProgressUntilItsReservationEnds_ThenFailedWithItsReservationReleased()
    {
        var subscribed = await app.SubscribedAsync();
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var reservationMinutes = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.ReservationMinutes;
        var recent = Guid.NewGuid().ToString();
        var abandoned = Guid.NewGuid().ToString();
        // What a request leaves when its process stops mid-run: its claim on the key, still running, and its reservation.
        await ClaimWithReservationAsync(subscribed.Config, recent, now.AddMinutes(1 - reservationMinutes), price: 5);
        var stopped = await ClaimWithReservationAsync(subscribed.Config, abandoned, now.AddMinutes(-1 - reservationMinutes), price: 7);
        Assert.Equal(5 + 7, (await subscribed.Buyer.BalanceAsync()).GetProperty("reserved").GetInt64());

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Again", idempotencyKey: recent), HttpStatusCode.Conflict, "run_in_progress");
        var interrupted = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Again", idempotencyKey: abandoned), HttpStatusCode.Conflict, "idempotency_conflict");
        Assert.Contains(InterruptedRuns.Code, interrupted.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(stopped, interrupted.GetProperty("run_id").GetGuid());
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Again", idempotencyKey: abandoned), HttpStatusCode.Conflict, "idempotency_conflict");

        // The abandoned run's reservation is released; the one still in progress keeps its own.
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 5L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var totals = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/"))).GetProperty("totals");
        Assert.Equal((2, 1, 0L), (totals.GetProperty("runs").GetInt32(), totals.GetProperty("errors").GetInt32(), totals.GetProperty("credits_charged").GetInt64()));
    }

    [Fact]
    public async Task RunsAbandonedByAStoppedProcess_ThatNoOneRetries_AreRecordedInterrupted_ByTheSweeper()
    {
        var subscribed = await app.SubscribedAsync();
        var now = app.Clock.GetUtcNow().UtcDateTime;
        var reservationMinutes = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.ReservationMinutes;
        var longAgo = now.AddMinutes(-1 - reservationMinutes);
        var recent = await ClaimWithReservationAsync(subscribed.Config, Guid.NewGuid().ToString(), now.AddMinutes(1 - reservationMinutes), price: 5);
        var abandoned = await ClaimWithReservationAsync(subscribed.Config, Guid.NewGuid().ToString(), longAgo, price: 7);
        // A provider's usage report claimed as long ago: its runtime finishes it by reporting again, so it stays.
        var reported = await app.ClaimRunAsync(subscribed.Config, ExternalUsage.EventKeyPrefix + Guid.NewGuid(), ExternalUsage.Door, longAgo, longAgo, price: 0);

        await app.Services.GetRequiredService<InterruptedRunSweeper>().SweepAsync(CancellationToken.None);

        var statuses = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AgentRuns
            .Where(r => r.Id == recent || r.Id == abandoned || r.Id == reported.Id)
            .ToDictionaryAsync(r => r.Id, r => (r.Status, r.ErrorCode, r.CreditsCharged)));
        Assert.Equal((AgentRunStatus.Running, (string?)null, 0L), statuses[recent]);
        Assert.Equal((AgentRunStatus.Failed, InterruptedRuns.Code, 0L), statuses[abandoned]);
        Assert.Equal(AgentRunStatus.Running, statuses[reported.Id].Status);
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 5L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var totals = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/usage/"))).GetProperty("totals");
        Assert.Equal((1, 0L), (totals.GetProperty("errors").GetInt32(), totals.GetProperty("credits_charged").GetInt64()));

        // Sweeping again changes nothing, and the run still in progress is left to its process.
        await app.Services.GetRequiredService<InterruptedRunSweeper>().SweepAsync(CancellationToken.None);
        Assert.Equal(5L, (await subscribed.Buyer.BalanceAsync()).GetProperty("reserved").GetInt64());
    }

    async Task<Guid> ClaimWithReservationAsync(Guid config, string idempotencyKey, DateTime started, long price)
    {
        var run = await app.ClaimRunAsync(config, idempotencyKey, "api", started, finished: null, price);
        await app.ReserveForAsync(run, $"run:{run.Id}:reserve", started);
        return run.Id;
    }

    [Fact]
    public async Task Unsubscribe_StopsItsKeys()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still here?"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.DeleteAsync($"/api/customer-agent-configs/{subscribed.Config}/"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "still here?"), HttpStatusCode.Unauthorized);
    }
}
