using System.Net;
using System.Text;
using System.Text.Json;
using AgentMarket.Gateway;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>The gateway app with a short run time limit, so a client can pause reading for longer than a run may take.</summary>
public sealed class ShortRunTimeApp : GatewayApp
{
    public static readonly TimeSpan RunTimeLimit = TimeSpan.FromSeconds(4);

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Flows:RunTimeoutSeconds", RunTimeLimit.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>
/// A client reading a streamed answer slowly does not hold the run up (ADR-154): the run ends and is charged when the
/// engine ends, and the client still gets every token and the final event when it reads on.
/// </summary>
public class SlowStreamReaderTests(ShortRunTimeApp app) : IClassFixture<ShortRunTimeApp>
{
    /// <summary>
    /// Thousands of token events: far more than the engine's event channel (256) and the test host's response buffer
    /// (64 KB of frames) hold, so a stream that waits for its client waits here.
    /// </summary>
    static string LongAnswer() => string.Join(' ', Enumerable.Range(0, 2_500).Select(i => $"w{i}"));

    [Fact]
    public async Task AClientThatPausesReadingLongerThanTheRunTimeLimit_GetsEveryTokenAndTheEnd_AndTheRunIsChargedOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var before = (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64();
        var question = $"Answer {CatalogIntents.UniqueWord()} at length";
        var answer = LongAnswer();
        app.Model.When(question, FakeReply.Say(answer) with { ChunkSize = 4 });
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{subscribed.Config}/run/", json: new { input = question });
        request.Headers.Accept.ParseAdd("text/event-stream");

        var body = await ReadWithAPauseAsync(await subscribed.KeyClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead));

        var events = ServerSentEvents.Parse(body);
        var tokens = events.TakeWhile(e => e.Name == "token").ToList();
        Assert.Equal(answer, string.Concat(tokens.Select(t => t.Data.GetProperty("chunk").GetString())));
        var end = Assert.Single(events.Skip(tokens.Count));
        Assert.Equal("end", end.Name);
        Assert.Equal(answer, end.Data.GetProperty("output").GetString());
        await AssertChargedOnceAsync(subscribed, before, end.Data.GetProperty("run_id").GetGuid(), end.Data.GetProperty("credits_charged").GetInt64());
        Assert.Equal(before - end.Data.GetProperty("credits_charged").GetInt64(), end.Data.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task AnOpenAiClientThatPausesReadingLongerThanTheRunTimeLimit_GetsTheWholeAnswerAndDone_AndTheRunIsChargedOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var before = (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64();
        var question = $"Answer {CatalogIntents.UniqueWord()} at length";
        var answer = LongAnswer();
        app.Model.When(question, FakeReply.Say(answer) with { ChunkSize = 4 });
        var ask = new { model = subscribed.Agent.Slug, messages = new[] { new { role = "user", content = question } }, stream = true };
        var request = Http.Request(HttpMethod.Post, "/v1/chat/completions", json: ask);

        var body = await ReadWithAPauseAsync(await subscribed.KeyClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead));

        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(frame => frame["data: ".Length..]).ToList();
        Assert.Equal("[DONE]", frames[^1]);
        var chunks = frames[..^1].Select(frame => JsonDocument.Parse(frame).RootElement.GetProperty("choices")[0]).ToList();
        Assert.Equal(answer, string.Concat(chunks.Select(c => c.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : "")));
        Assert.Equal("stop", chunks[^1].GetProperty("finish_reason").GetString());
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        await AssertChargedOnceAsync(subscribed, before, run.Id, run.CreditsCharged);
    }

    /// <summary>Reads the first bytes, stops reading for longer than a run may take (the gate), then reads the rest.</summary>
    static async Task<string> ReadWithAPauseAsync(HttpResponseMessage response)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var stream = await response.Content.ReadAsStreamAsync();
            var first = new byte[16];
            var read = await stream.ReadAsync(first);
            await Task.Delay(ShortRunTimeApp.RunTimeLimit + TimeSpan.FromSeconds(2));
            using var rest = new StreamReader(stream, Encoding.UTF8);
            return Encoding.UTF8.GetString(first, 0, read) + await rest.ReadToEndAsync();
        }
    }

    async Task AssertChargedOnceAsync(Subscribed subscribed, long before, Guid runId, long charged)
    {
        var run = Assert.Single(await app.RunsAsync(subscribed.Buyer.OrganizationId, subscribed.Config));
        Assert.Equal((runId, AgentRunStatus.Succeeded, null), (run.Id, run.Status, run.ErrorCode));
        Assert.True(charged > 0, "the agent charges per run");
        Assert.Equal(charged, run.CreditsCharged);
        var balance = await subscribed.Buyer.BalanceAsync();
        Assert.Equal((before - charged, 0L), (balance.GetProperty("balance").GetInt64(), balance.GetProperty("reserved").GetInt64()));
    }
}
