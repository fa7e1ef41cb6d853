using System.Net;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>
/// An <c>Idempotency-Key</c> answers a retry of its own request only (ADR-136): sent again with another input or session
/// it is refused with 422 <c>idempotency_key_reused</c>, instead of replaying an answer to a question the caller did not ask.
/// </summary>
public class IdempotencyKeyTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task TheSameRequestAgain_ReplaysTheFirstRun_AndChargesOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var key = Guid.NewGuid().ToString();
        var first = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Same question", "session-1", key));
        var calls = app.Model.Requests.Count;

        var again = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Same question", "session-1", key));

        Assert.Equal(first.GetProperty("run_id").GetGuid(), again.GetProperty("run_id").GetGuid());
        Assert.Equal(first.GetProperty("output").GetString(), again.GetProperty("output").GetString());
        Assert.Equal(calls, app.Model.Requests.Count);
        Assert.Equal(345, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Theory]
    [InlineData("Another question", "session-1")]
    [InlineData("First question", "session-2")]
    [InlineData("First question", null)]
    public async Task TheKeyWithAnotherInputOrSession_IsRefused_NamingTheFirstRun_AndChargesNothing(string input, string? session)
    {
        var subscribed = await app.SubscribedAsync();
        var key = Guid.NewGuid().ToString();
        var first = (await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "First question", "session-1", key))).GetProperty("run_id").GetGuid();
        var calls = app.Model.Requests.Count;

        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, input, session, key),
            HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");

        Assert.Equal(first, problem.GetProperty("run_id").GetGuid());
        Assert.Contains(first.ToString(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(calls, app.Model.Requests.Count);
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((345L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
    }

    [Fact]
    public async Task WhileTheFirstRunIsInProgress_ItsRequestIsInProgress_AndAnotherRequestIsRefused()
    {
        var subscribed = await app.SubscribedAsync();
        app.Model.When("Slow question", FakeReply.Say("A slow answer.") with { Latency = TimeSpan.FromSeconds(3) });
        var key = Guid.NewGuid().ToString();
        var firstRun = subscribed.KeyClient.RunAsync(subscribed.Config, "Slow question", idempotencyKey: key);
        // The model is asked after the key is claimed, so from then on the run is in progress under the key.
        await DoorIntents.EventuallyAsync(() => Task.FromResult(app.Model.Requests.Any(r => r.LastUser == "Slow question")), "the first run reaches the model");

        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Slow question", idempotencyKey: key), HttpStatusCode.Conflict, "run_in_progress");
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Quick question", idempotencyKey: key),
            HttpStatusCode.UnprocessableEntity, "idempotency_key_reused");

        Assert.Equal("A slow answer.", (await Http.ReadJsonAsync(await firstRun)).GetProperty("output").GetString());
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((345L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
    }

    [Fact]
    public async Task ARunRecordedBeforeFingerprints_ReplaysToAnyRequestWithItsKey()
    {
        var subscribed = await app.SubscribedAsync();
        var key = Guid.NewGuid().ToString();
        var first = (await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Asked before schema 0030", idempotencyKey: key))).GetProperty("run_id").GetGuid();
        // What schema 0030 leaves on the runs claimed before it: no fingerprint.
        await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AgentRuns.Where(r => r.Id == first)
            .ExecuteUpdateAsync(run => run.SetProperty(r => r.RequestHash, (string?)null)));

        var again = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Asked after it", idempotencyKey: key));

        Assert.Equal(first, again.GetProperty("run_id").GetGuid());
        Assert.Equal(345, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());
    }

    [Fact]
    public void TheFingerprint_CoversWhatChangesTheAnswer_AndNotWhoAsks()
    {
        var config = Guid.NewGuid();
        var request = new GatewayRequest(config, "Hello", "session", "key", "api");
        var fingerprint = request.Fingerprint();

        Assert.Matches("^[0-9a-f]{64}$", fingerprint);
        Assert.Equal(fingerprint, (request with { Door = "openai", IdempotencyKey = "another key", ConfigId = Guid.NewGuid() }).Fingerprint());
        string[] others =
        [
            (request with { Input = "Hello!" }).Fingerprint(),
            (request with { SessionId = null }).Fingerprint(),
            (request with { SessionId = "" }).Fingerprint(),
            // Where one value ends and the next begins counts, not only the characters.
            (request with { Input = "Hellos", SessionId = "ession" }).Fingerprint(),
            (request with { OutputType = "text" }).Fingerprint(),
            (request with { OutputComponent = "ChatOutput-1" }).Fingerprint(),
            (request with { NodeInputs = new Dictionary<string, string> { ["TextInput-1"] = "a" } }).Fingerprint(),
            (request with { History = [new ConversationTurn("User", "Earlier")] }).Fingerprint(),
            (request with { History = [new ConversationTurn("User", "Other")] }).Fingerprint(),
        ];
        Assert.Equal(others.Length + 1, others.Append(fingerprint).Distinct().Count());

        // Node inputs are a set: their order is not part of the request.
        var inputs = new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" };
        var reordered = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" };
        Assert.Equal((request with { NodeInputs = inputs }).Fingerprint(), (request with { NodeInputs = reordered }).Fingerprint());
    }
}
