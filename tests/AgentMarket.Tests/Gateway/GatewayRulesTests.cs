using System.Net;
using System.Net.Http.Json;
using AgentMarket.Gateway;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>What the gateway refuses, what it charges, and when: credits, failures, keys, limits, sessions, tenants.</summary>
public class GatewayRulesTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    static readonly string[] ReadOnly = ["read"];

    [Fact]
    public async Task NotEnoughCredits_Returns402_BeforeAnyModelCall()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 500 });
        var subscribed = await app.SubscribedAsync(agent);
        var question = $"Expensive question {Guid.NewGuid():N}";

        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, question), HttpStatusCode.PaymentRequired, "insufficient_credits");
        Assert.Equal((500L, 350L), (problem.GetProperty("required").GetInt64(), problem.GetProperty("available").GetInt64()));
        Assert.DoesNotContain(app.Model.Requests, r => r.Prompt.Contains(question, StringComparison.Ordinal));
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AReadOnlyKey_IsRefusedByEveryRunDoor_AndSpendsNothing()
    {
        var subscribed = await app.SubscribedAsync();
        var (_, readOnly) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { Name = "dashboard", Scopes = ReadOnly });
        var client = app.BearerClient(readOnly);
        var before = (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64();

        await Http.AssertProblemAsync(await client.RunAsync(subscribed.Config, "spend?"), HttpStatusCode.Forbidden, "insufficient_scope");
        var openAi = await client.PostAsJsonAsync("/v1/chat/completions", new { model = subscribed.Agent.Slug, messages = new[] { new { role = "user", content = "spend?" } } });
        Assert.Equal(HttpStatusCode.Forbidden, openAi.StatusCode);
        var langflow = await client.PostAsJsonAsync($"/api/v1/run/{subscribed.Config}", new { input_value = "spend?" });
        Assert.Equal(HttpStatusCode.Forbidden, langflow.StatusCode);

        Assert.Equal(before, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "the run key still runs"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task AnAnswerWithNothingInIt_IsAFailedRun_ThatCostsNothing()
    {
        var subscribed = await app.SubscribedAsync();
        var empty = $"say nothing {Guid.NewGuid():N}";
        var toolOnly = $"call a tool {Guid.NewGuid():N}";
        app.Model.When(empty, FakeReply.Say(""));
        app.Model.When(toolOnly, FakeReply.Call("search", "{}")); // this flow has no tools to call
        var before = (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64();

        foreach (var input in new[] { empty, toolOnly })
        {
            var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, input), HttpStatusCode.BadGateway, "empty_answer");
            Assert.Contains("nothing was charged", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        var openAi = await subscribed.KeyClient.PostAsJsonAsync("/v1/chat/completions", new { model = subscribed.Agent.Slug, messages = new[] { new { role = "user", content = empty } } });
        Assert.Equal(HttpStatusCode.BadGateway, openAi.StatusCode);

        Assert.Equal(before, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task AFailedRun_ChargesNothing_AndReleasesTheReservation()
    {
        var subscribed = await app.SubscribedAsync();
        app.Model.When("make the model fail", FakeReply.Fail(500));

        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "please make the model fail"), HttpStatusCode.BadGateway, "model_error");
        Assert.True(problem.TryGetProperty("run_id", out _));
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 350L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("available").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var spend = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync("/api/credits/transactions/?type=spend"));
        Assert.Equal(0, spend.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task ARateLimitingModel_Is503WithItsRetryAfter_AndChargesNothing()
    {
        var subscribed = await app.SubscribedAsync();
        app.Model.When("the model is busy", FakeReply.Fail(429) with { RetryAfterSeconds = 1 });

        var response = await subscribed.KeyClient.RunAsync(subscribed.Config, "the model is busy");
        await Http.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "model_rate_limited");
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "model_rate_limited", 0L), (run.Status, run.ErrorCode, run.CreditsCharged));
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());

        // Asked for a stream, refused before its first token: the same problem and header. Through the Langflow door too.
        var streamed = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = "the model is busy" });
        streamed.Headers.Accept.ParseAdd("text/event-stream");
        var refused = await subscribed.KeyClient.SendAsync(streamed);
        await Http.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "model_rate_limited");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        var langflow = await subscribed.KeyClient.PostAsJsonAsync($"/api/v1/run/{subscribed.Config}", new { input_value = "the model is busy" });
        Assert.Equal((HttpStatusCode.InternalServerError, TimeSpan.FromSeconds(1)), (langflow.StatusCode, langflow.Headers.RetryAfter?.Delta));
    }

    [Fact]
    public async Task ARunThatBreaksUnexpectedly_IsRecordedFailed_AndItsReservationReleased()
    {
        var subscribed = await app.SubscribedAsync();
        // A bring-your-own key this server can no longer decrypt (its key ring was lost): reading it throws mid-run.
        await app.InScopeAsync(subscribed.Buyer.OrganizationId, services =>
            services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>().CustomerAgentConfigs.Where(c => c.Id == subscribed.Config)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ModelApiKeyProtected, "not-a-protected-payload")));

        Assert.Equal(HttpStatusCode.InternalServerError, (await subscribed.KeyClient.RunAsync(subscribed.Config, "hello")).StatusCode);
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((AgentRunStatus.Failed, "run_failed", 0L), (run.Status, run.ErrorCode, run.CreditsCharged));
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((350L, 0L), (balance.GetProperty("available").GetInt64(), balance.GetProperty("reserved").GetInt64()));
    }

    [Fact]
    public async Task RevokedKey_Returns401_OnTheVeryNextCall()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hi"), HttpStatusCode.OK);
        var keys = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        var keyId = keys.GetProperty("items")[0].GetProperty("uuid").GetGuid();

        await Http.AssertStatusAsync(await subscribed.Buyer.Client.DeleteAsync($"/api/agent-api-keys/{keyId}/"), HttpStatusCode.NoContent);
        var refused = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hi"), HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("Unknown, revoked or expired key. Send a valid one.", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task RotatedKey_KeepsTheOldSecretWorking_UntilTheGraceEnds()
    {
        var subscribed = await app.SubscribedAsync();
        var keyId = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"))).GetProperty("items")[0].GetProperty("uuid").GetGuid();
        var rotated = await Http.ReadJsonAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/agent-api-keys/{keyId}/regenerate/", new { grace_hours = 1 }));
        var newKey = app.BearerClient(rotated.GetProperty("key").GetString()!);
        Assert.NotEqual(subscribed.Key, rotated.GetProperty("key").GetString());

        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "old"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await newKey.RunAsync(subscribed.Config, "new"), HttpStatusCode.OK);

        app.Clock.Advance(TimeSpan.FromMinutes(61));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "old"), HttpStatusCode.Unauthorized);
        await Http.AssertStatusAsync(await newKey.RunAsync(subscribed.Config, "new"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task KeyBudget_StopsRuns_ThatWouldExceedIt()
    {
        var subscribed = await app.SubscribedAsync(key: new { BudgetCredits = 12 });
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "one"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "two"), HttpStatusCode.OK);
        var problem = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "three"), HttpStatusCode.PaymentRequired, "budget_exceeded");
        Assert.Equal(10, problem.GetProperty("spent").GetInt64());
        var listed = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.Equal(10, listed.GetProperty("items")[0].GetProperty("spent").GetInt64());
    }

    [Fact]
    public async Task KeyBudgetAndSessionCap_CountRunsStillUnderWay_SoConcurrentRunsCannotOverspendThem()
    {
        var subscribed = await app.SubscribedAsync(key: new { BudgetCredits = 12 });
        await subscribed.Buyer.UpgradeAsync("pro"); // 30 concurrent sessions: the caps, not the plan, must stop them
        var question = $"slow and concurrent {Guid.NewGuid():N}";
        app.Model.When(question, FakeReply.Say("done") with { Latency = TimeSpan.FromMilliseconds(400) });

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => subscribed.KeyClient.RunAsync(subscribed.Config, question)));
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a => Assert.Equal(HttpStatusCode.PaymentRequired, a.StatusCode));
        var listed = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}"));
        Assert.Equal(10, listed.GetProperty("items").EnumerateArray().Single(k => k.GetProperty("name").GetString() == "server").GetProperty("spent").GetInt64());

        // The session cap likewise, for runs of one session through a key without a budget.
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 12 }), HttpStatusCode.OK);
        var (_, unbudgeted) = await subscribed.Buyer.CreateKeyAsync(subscribed.Config, new { Name = "unbudgeted" });
        var session = $"concurrent-{Guid.NewGuid():N}";
        answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.BearerClient(unbudgeted).RunAsync(subscribed.Config, question, session)));
        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.Equal(6, answers.Count(a => a.StatusCode == HttpStatusCode.PaymentRequired));
    }

    [Fact]
    public async Task KeyRateLimit_Returns429_WithRetryAfter()
    {
        var subscribed = await app.SubscribedAsync(key: new { RateLimitPerMinute = 2 });
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "a"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "b"), HttpStatusCode.OK);
        var limited = await subscribed.KeyClient.RunAsync(subscribed.Config, "c");
        await Http.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.True(limited.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task AKeyOfOneOrganization_CannotRunReadOrConfigureAnother()
    {
        var mine = await app.SubscribedAsync();
        var theirs = await app.SubscribedAsync(mine.Agent);

        await Http.AssertProblemAsync(await mine.KeyClient.RunAsync(theirs.Config, "hi"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await mine.KeyClient.GetAsync($"/api/customer-agent-configs/{theirs.Config}/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await mine.KeyClient.GetAsync($"/api/customer-agent-configs/{mine.Config}/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await mine.KeyClient.PatchAsJsonAsync($"/api/customer-agent-configs/{theirs.Config}/", new { name = "mine" }), HttpStatusCode.NotFound);
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{mine.Config}/run/", theirs.Buyer.OrganizationId, new { input = "hi" });
        await Http.AssertStatusAsync(await mine.KeyClient.SendAsync(request), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await theirs.Buyer.Client.RunAsync(mine.Config, "hi"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task SessionCreditCap_StopsASessionThatWouldExceedIt()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 12 }), HttpStatusCode.OK);
        var first = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "first"));
        var session = first.GetProperty("session_id").GetString();
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "second", session), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "third", session), HttpStatusCode.PaymentRequired, "session_credit_cap");
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "a fresh session"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task MoreConcurrentRunsThanThePlanAllows_AreRefusedWith429()
    {
        var subscribed = await app.SubscribedAsync();
        app.Model.When("slow question", FakeReply.Say("slow answer") with { Latency = TimeSpan.FromMilliseconds(800) });
        var responses = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => subscribed.KeyClient.RunAsync(subscribed.Config, $"slow question {i}")));
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.OK);
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        await Http.AssertProblemAsync(refused[0], HttpStatusCode.TooManyRequests, "session_limit");
        Assert.NotNull(refused[0].Headers.RetryAfter);
    }

    [Fact]
    public async Task SixtyFourConcurrentRuns_OnAWalletThatCanPayForTen_SettleExactlyTen()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 35 });
        var subscribed = await app.SubscribedAsync(agent);
        // Enterprise allows 200 concurrent sessions, so only the wallet limits these runs.
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
            db.OrganizationPlans.Single(p => p.OrganizationId == subscribed.Buyer.OrganizationId).PlanCode = "enterprise";
            return await db.SaveChangesAsync();
        });

        var responses = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => subscribed.KeyClient.RunAsync(subscribed.Config, $"race {i}"))));

        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.PaymentRequired, r.StatusCode));
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((0L, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
        var check = await new LedgerDriver(app).CheckAsync();
        Assert.True(check.Ok, string.Join("; ", check.Mismatches));
    }

    [Fact]
    public async Task Streaming_SendsTokensInOrder_ThenOneEndEventWithTheResult()
    {
        var subscribed = await app.SubscribedAsync();
        app.Model.When("stream this", FakeReply.Say("Hello brave new streaming world") with { ChunkSize = 5 });
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = "please stream this" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        var response = await subscribed.KeyClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);

        var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
        var tokens = events.TakeWhile(e => e.Name == "token").ToList();
        Assert.True(tokens.Count >= 2, "the answer arrives in several token events");
        Assert.Equal("end", events[tokens.Count].Name);
        Assert.Equal(tokens.Count + 1, events.Count);
        var end = events[^1].Data;
        Assert.Equal("Hello brave new streaming world", string.Concat(tokens.Select(t => t.Data.GetProperty("chunk").GetString())));
        Assert.Equal("Hello brave new streaming world", end.GetProperty("output").GetString());
        Assert.Equal(5, end.GetProperty("credits_charged").GetInt64());
    }

    [Fact]
    public async Task Streaming_ARefusalBeforeTheRun_IsAPlainProblem()
    {
        var agent = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 1_000 });
        var subscribed = await app.SubscribedAsync(agent);
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = "too expensive" });
        request.Headers.Accept.ParseAdd("text/event-stream");
        await Http.AssertProblemAsync(await subscribed.KeyClient.SendAsync(request), HttpStatusCode.PaymentRequired, "insufficient_credits");
    }
}

/// <summary>A model-less install: runs that need a model fail cleanly and cost nothing.</summary>
public class NoModelTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task WithoutAModel_TheRunFailsWithModelNotConfigured_AndIsNotCharged()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "hello?"), HttpStatusCode.UnprocessableEntity, "model_not_configured");
        Assert.Equal(350, (await subscribed.Buyer.BalanceAsync()).GetProperty("available").GetInt64());
    }
}
