using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentMarket.Flows.Execution;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Runtime;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Usage.Pages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Runtime;

/// <summary>
/// A provider's endpoint beside the operator's, a token rate high enough that a few tokens show in a price, and a cap on
/// hidden reasoning tokens low enough that a price shows it.
/// </summary>
public sealed class ModelUsageBoundsApp : FlowModelKeyApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Gateway:VariableCreditsPerThousandTokens", "100"), new("Llm:MaxReasoningTokensPerCall", "2000")];
}

/// <summary>
/// A variable price charges from token usage the platform can stand behind (ADR-164): an endpoint that is not the
/// operator's cannot claim more tokens than the text it sent and received can hold, nor fewer than an estimate of it.
/// </summary>
public class ModelUsageBoundsTests(ModelUsageBoundsApp app) : IClassFixture<ModelUsageBoundsApp>
{
    static readonly object VariablePrice = new { model = "variable_credits", credits_min = 1, credits_max = 300 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ASellersOwnEndpoint_ClaimingAMillionTokensForATenCharacterAnswer_IsChargedForWhatTheAnswerCanHold(bool streamed)
    {
        var subscribed = await app.SubscribedAsync(await FlowEndpointAgentAsync());
        var (question, answer) = ($"How much {CatalogIntents.UniqueWord()}?", "Ten chars!");
        app.FlowEndpoint.When(question, new FakeReply { Text = answer, Usage = (10, 1_000_000) });

        var run = await RunAsync(subscribed, question, streamed);

        Assert.Equal(answer, run.Output);
        Assert.Equal(Encoding.UTF8.GetByteCount(answer) + UsageBounds.CallFraming, run.OutputTokens);
        Assert.Equal(PriceOf(run.InputTokens + run.OutputTokens), run.CreditsCharged);
        Assert.True(run.CreditsCharged < PriceOf(10 + 1_000_000), "the claimed tokens would have cost more");
        Assert.Equal(UsageSource.Bounded, run.UsageSource);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AReasoningModelOnASellersOwnEndpoint_IsChargedItsHiddenReasoning_AndItsFiguresAreRecordedAsReported(bool streamed)
    {
        var subscribed = await app.SubscribedAsync(await FlowEndpointAgentAsync());
        var (question, answer) = ($"Think about {CatalogIntents.UniqueWord()}?", "Forty-two.");
        var (written, thought) = (Estimate(answer.Length), ReasoningCap / 2);
        app.FlowEndpoint.When(question, new FakeReply
        {
            Text = answer,
            Usage = (0, (int)(written + thought)),
            ReasoningTokens = (int)thought,
            PromptTokens = HonestPromptTokens,
        });

        var run = await RunAsync(subscribed, question, streamed);

        Assert.Equal(written + thought, run.OutputTokens);
        Assert.Equal(UsageSource.Reported, run.UsageSource);
        Assert.Equal(PriceOf(run.InputTokens + run.OutputTokens), run.CreditsCharged);
    }

    [Fact]
    public async Task HiddenReasoningClaimedBeyondTheOperatorsCap_IsChargedTheCap_AndRecordedAsBounded()
    {
        var subscribed = await app.SubscribedAsync(await FlowEndpointAgentAsync());
        var (question, answer) = ($"Think forever {CatalogIntents.UniqueWord()}?", "Forty-two.");
        var written = Estimate(answer.Length);
        app.FlowEndpoint.When(question, new FakeReply
        {
            Text = answer,
            Usage = (0, (int)(written + 100 * ReasoningCap)),
            ReasoningTokens = (int)(100 * ReasoningCap),
            PromptTokens = HonestPromptTokens,
        });

        var run = await RunAsync(subscribed, question);

        Assert.Equal(written + ReasoningCap, run.OutputTokens);
        Assert.Equal(UsageSource.Bounded, run.UsageSource);
        Assert.Equal(PriceOf(run.InputTokens + run.OutputTokens), run.CreditsCharged);
    }

    [Fact]
    public async Task HiddenReasoningClaimedBeyondTheCallsMaxTokens_IsChargedWhatTheCallAllowed()
    {
        var maxTokens = ReasoningCap / 4;
        var subscribed = await app.SubscribedAsync(await FlowEndpointAgentAsync(maxTokens));
        var (question, answer) = ($"Think briefly {CatalogIntents.UniqueWord()}?", "Forty-two.");
        var written = Estimate(answer.Length);
        app.FlowEndpoint.When(question, new FakeReply
        {
            Text = answer,
            Usage = (0, (int)(written + ReasoningCap)),
            ReasoningTokens = (int)ReasoningCap,
            PromptTokens = HonestPromptTokens,
        });

        var run = await RunAsync(subscribed, question);

        Assert.Equal(maxTokens, app.FlowEndpoint.Requests.Single(r => r.LastUser == question).Body.GetProperty("max_completion_tokens").GetInt64());
        Assert.Equal(maxTokens, run.OutputTokens);
        Assert.Equal(UsageSource.Bounded, run.UsageSource);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ABuyersOwnEndpoint_ReportingNoTokens_IsChargedAtLeastTheEstimateOfItsText(bool noUsageAtAll)
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(VariablePrice));
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { base_url = app.FlowEndpoint.BaseUrl.ToString(), model = "their-model", api_key = "their-key" } }), HttpStatusCode.OK);
        var (question, answer) = ($"For free {CatalogIntents.UniqueWord()}?", "Nothing is free, not even this rather long answer.");
        app.FlowEndpoint.When(question, new FakeReply { Text = answer, Usage = (0, 0), NoUsage = noUsageAtAll });

        var run = await RunAsync(subscribed, question);

        Assert.Equal(noUsageAtAll ? UsageSource.Estimated : UsageSource.Bounded, run.UsageSource);
        var sent = app.FlowEndpoint.Requests.Single(r => r.LastUser == question).Messages.Sum(m => m.Text.Length);
        Assert.Equal((Estimate(sent), Estimate(answer.Length)), (run.InputTokens, run.OutputTokens));
        Assert.Equal(PriceOf(run.InputTokens + run.OutputTokens), run.CreditsCharged);
        Assert.True(run.CreditsCharged > PriceOf(0), "zero tokens would have cost the minimum");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheOperatorsEndpoint_IsTakenAtItsWord(bool streamed)
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(VariablePrice));
        var question = $"Trusted {CatalogIntents.UniqueWord()}?";
        app.Model.When(question, new FakeReply { Text = "Short.", Usage = (10, 1_000_000), ReasoningTokens = 999_990 });

        var run = await RunAsync(subscribed, question, streamed);

        Assert.Equal((10L, 1_000_000L), (run.InputTokens, run.OutputTokens));
        Assert.Equal(PriceOf(10 + 1_000_000), run.CreditsCharged);
        Assert.Equal(UsageSource.Reported, run.UsageSource);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TheOperatorsEndpoint_ReportingNoUsage_IsChargedTheEstimateOfItsText_AndRecordedAsEstimated(bool streamed)
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(VariablePrice));
        var ledger = new LedgerDriver(app);
        var before = await ledger.BalanceAsync(subscribed.Buyer.OrganizationId);
        var (question, answer) = ($"Silent operator {CatalogIntents.UniqueWord()}?", "An answer the operator's endpoint never counted, long enough to cost.");
        app.Model.When(question, new FakeReply { Text = answer, NoUsage = true });

        var run = await RunAsync(subscribed, question, streamed);

        Assert.Equal(UsageSource.Estimated, run.UsageSource);
        var sent = app.Model.Requests.Single(r => r.LastUser == question).Messages.Sum(m => m.Text.Length);
        Assert.Equal((Estimate(sent), Estimate(answer.Length)), (run.InputTokens, run.OutputTokens));
        Assert.Equal(PriceOf(run.InputTokens + run.OutputTokens), run.CreditsCharged);
        Assert.True(run.CreditsCharged > PriceOf(0), "zero tokens would have cost the minimum");
        var after = await ledger.BalanceAsync(subscribed.Buyer.OrganizationId);
        Assert.Equal((before.Balance - run.CreditsCharged, 0L), (after.Balance, after.Reserved));
    }

    [Fact]
    public async Task Usage_CountsTheRunsWhoseTokensWereBoundedOrEstimated_InJsonAndCsv()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(VariablePrice));
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { base_url = app.FlowEndpoint.BaseUrl.ToString(), model = "their-model", api_key = "their-key" } }), HttpStatusCode.OK);
        var word = CatalogIntents.UniqueWord();
        app.FlowEndpoint.When($"Honest {word}", new FakeReply { Text = "Yes.", Usage = (0, 1), PromptTokens = HonestPromptTokens });
        app.FlowEndpoint.When($"Zero {word}", new FakeReply { Text = "Yes, but reported as nothing.", Usage = (0, 0) });
        app.FlowEndpoint.When($"Silent {word}", new FakeReply { Text = "Yes, and no usage at all.", NoUsage = true });
        List<AgentRun> runs = [];
        foreach (var question in new[] { $"Honest {word}", $"Zero {word}", $"Silent {word}", $"Zero {word} again" })
        {
            runs.Add(await RunAsync(subscribed, question));
        }

        var report = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/usage/?config={subscribed.Config}&group_by=agent"));
        var csv = await (await subscribed.Buyer.Client.GetAsync($"/api/usage/?config={subscribed.Config}&group_by=agent&format=csv")).Content.ReadAsStringAsync();

        var (bounded, estimated) = (runs.Count(r => r.UsageSource == UsageSource.Bounded), runs.Count(r => r.UsageSource == UsageSource.Estimated));
        Assert.Equal((2, 1), (bounded, estimated));
        var totals = report.GetProperty("totals");
        Assert.Equal((bounded, estimated), (totals.GetProperty("bounded_runs").GetInt32(), totals.GetProperty("estimated_runs").GetInt32()));
        var row = Assert.Single(report.GetProperty("rows").EnumerateArray());
        Assert.Equal((bounded, estimated), (row.GetProperty("bounded_runs").GetInt32(), row.GetProperty("estimated_runs").GetInt32()));
        var lines = csv.TrimEnd('\n').Split('\n');
        var columns = lines[0].Split(',');
        var values = Assert.Single(lines[1..]).Split(',');
        Assert.Equal($"{bounded}", values[Array.IndexOf(columns, "bounded_runs")]);
        Assert.Equal($"{estimated}", values[Array.IndexOf(columns, "estimated_runs")]);
    }

    [Fact]
    public async Task UsagePage_ShowsHowManyRunsHadBoundedOrEstimatedTokens_OnlyWhenThereAreSome()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(VariablePrice));
        var word = CatalogIntents.UniqueWord();
        Assert.Equal(UsageSource.Reported, (await RunAsync(subscribed, $"Counted {word}")).UsageSource);

        var reportedOnly = await subscribed.Buyer.Client.HtmlAsync("/my-agents/usage");

        Assert.Equal("1", PageForms.Marked(reportedOnly, "data-usage=\"runs\""));
        foreach (var absent in new[] { "data-usage=\"bounded\"", "data-usage=\"estimated\"", "data-usage-source", UsageSourceNote.Bounded, UsageSourceNote.Estimated })
        {
            Assert.DoesNotContain(absent, reportedOnly, StringComparison.Ordinal);
        }

        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{subscribed.Config}/",
            new { model = new { base_url = app.FlowEndpoint.BaseUrl.ToString(), model = "their-model", api_key = "their-key" } }), HttpStatusCode.OK);
        app.FlowEndpoint.When($"Zero {word}", new FakeReply { Text = "Yes, but reported as nothing.", Usage = (0, 0) });
        app.FlowEndpoint.When($"Silent {word}", new FakeReply { Text = "Yes, and no usage at all.", NoUsage = true });
        Assert.Equal(UsageSource.Bounded, (await RunAsync(subscribed, $"Zero {word}")).UsageSource);
        Assert.Equal(UsageSource.Estimated, (await RunAsync(subscribed, $"Silent {word}")).UsageSource);

        var html = await subscribed.Buyer.Client.HtmlAsync("/my-agents/usage");

        Assert.Equal(("3", "1", "1"), (PageForms.Marked(html, "data-usage=\"runs\""), PageForms.Marked(html, "data-usage=\"bounded\""), PageForms.Marked(html, "data-usage=\"estimated\"")));
        Assert.Contains(UsageSourceNote.Bounded, html, StringComparison.Ordinal);
        Assert.Contains(UsageSourceNote.Estimated, html, StringComparison.Ordinal);
        // The per-agent and the per-key table each have one row: the subscription, its one key.
        var perRow = Regex.Matches(html, "<td[^>]*data-usage-source[^>]*>([^<]*)<").Select(m => m.Groups[1].Value.Trim()).ToArray();
        Assert.Equal(["1 / 1", "1 / 1"], perRow);
    }

    [Fact]
    public void ModelClients_KeepABoundedNumberOfClients()
    {
        var clients = app.Services.GetRequiredService<ModelClients>();
        for (var i = 0; i < 2 * ModelClients.Capacity; i++)
        {
            clients.Get(new ModelEndpoint(new Uri($"https://models-{i}.example/v1"), $"key-{i}", null), "some-model");
        }

        Assert.InRange(clients.Count, 1, ModelClients.Capacity);
    }

    [Fact]
    public async Task AgentPlans_KeepABoundedNumberOfAgentsSettings_AndForgetStillWorks()
    {
        var plans = app.Services.GetRequiredService<AgentPlans>();
        for (var i = 0; i < 2 * AgentPlans.SettingsCapacity; i++)
        {
            await plans.SettingsAsync(Guid.NewGuid(), TestContext.Current.CancellationToken);
        }
        Assert.InRange(plans.Count.Settings, 1, AgentPlans.SettingsCapacity);

        // A provider's change is still seen at once on this node.
        var agent = await app.PromptAgentAsync();
        Assert.True((await plans.SettingsAsync(agent.AgentId, TestContext.Current.CancellationToken)).BuyerModelEndpointsAllowed);
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { buyer_model_endpoints = false }), HttpStatusCode.OK);
        Assert.False((await plans.SettingsAsync(agent.AgentId, TestContext.Current.CancellationToken)).BuyerModelEndpointsAllowed);
    }

    static long Estimate(long characters) => (characters + 3) / 4;

    /// <summary>What an honest endpoint reports for a prompt: within what its text can hold.</summary>
    static int HonestPromptTokens(RecordedRequest request) => (int)Estimate(request.Messages.Sum(m => m.Text.Length));

    long ReasoningCap => app.Services.GetRequiredService<IOptions<LlmOptions>>().Value.MaxReasoningTokensPerCall;

    long PriceOf(long tokens) =>
        Math.Clamp(tokens * app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.VariableCreditsPerThousandTokens / 1_000, 1, 300);

    async Task<AgentRun> RunAsync(Subscribed subscribed, string question, bool streamed = false)
    {
        JsonElement answered;
        if (streamed)
        {
            var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = question });
            request.Headers.Accept.ParseAdd("text/event-stream");
            var response = await subscribed.KeyClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var events = ServerSentEvents.Parse(await response.Content.ReadAsStringAsync());
            Assert.Contains(events, e => e.Name == "token");
            answered = Assert.Single(events, e => e.Name == "end").Data;
        }
        else
        {
            answered = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, question));
        }
        var runId = answered.GetProperty("run_id").GetGuid();
        var run = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().AgentRuns.AsNoTracking().SingleAsync(r => r.Id == runId));
        // The run's representation says what its record says.
        Assert.Equal(run.UsageSource, answered.GetProperty("usage_source").Deserialize<UsageSource?>());
        return run;
    }

    /// <summary>Basic Prompting, variable-priced, whose model node carries the seller's key and names the seller's endpoint.</summary>
    async Task<PublishedAgent> FlowEndpointAgentAsync(long? maxTokens = null)
    {
        var flow = JsonNode.Parse(CatalogIntents.ExampleFlow("Basic Prompting.json"))!;
        var node = flow["data"]!["nodes"]!.AsArray().Single(n => n?["data"]?["type"]?.GetValue<string>() == "LanguageModelComponent")!;
        var template = node["data"]!["node"]!["template"]!;
        template["api_key"]!["value"] = "seller-key";
        template["openai_api_base"] = new JsonObject { ["type"] = "str", ["value"] = app.FlowEndpoint.BaseUrl.ToString() };
        if (maxTokens is { } max)
        {
            template["max_tokens"] = new JsonObject { ["type"] = "int", ["value"] = max };
        }

        var (seller, handle) = await app.SellerAsync();
        var name = $"Metered agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await Http.AssertStatusAsync(await seller.UploadFlowAsync(agentId, Encoding.UTF8.GetBytes(flow.ToJsonString()), "metered.json"), HttpStatusCode.Created);
        var slug = $"metered-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/",
            CatalogIntents.PublishBody(slug, new() { ["pricing"] = VariablePrice })), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }
}
