using System.Text;
using AgentMarket.Flows.Execution;
using AgentMarket.Gateway;

namespace AgentMarket.Tests.Gateway;

/// <summary>The relay between a streamed run and its client (ADR-154): never waits for the client, bounded, in order.</summary>
public class StreamRelayTests
{
    /// <summary>A client whose writes wait at a gate until the test opens it, recording what it was sent.</summary>
    sealed class GatedClient
    {
        readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<RunEvent> Received { get; } = [];

        public string Text => string.Concat(Received.OfType<TokenEmitted>().Select(t => t.Chunk));

        public async ValueTask SendAsync(RunEvent runEvent)
        {
            await _gate.Task;
            Received.Add(runEvent);
        }

        public void Open() => _gate.TrySetResult();
    }

    static bool Done(ValueTask added) => added.IsCompletedSuccessfully;

    [Fact]
    public async Task Add_WhileTheClientDoesNotRead_NeverWaits_AndTheClientGetsEveryTokenInOrder()
    {
        var client = new GatedClient();
        var relay = new StreamRelay(client.SendAsync, 1024 * 1024, CancellationToken.None);
        var chunks = Enumerable.Range(0, 5_000).Select(i => $"t{i} ").ToList();

        Assert.True(Done(relay.Add(new RunStarted("run", "session"))));
        Assert.All(chunks, chunk => Assert.True(Done(relay.Add(new TokenEmitted("m1", chunk)))));
        client.Open();
        await relay.FinishAsync();

        Assert.IsType<RunStarted>(client.Received[0]);
        Assert.Equal(string.Concat(chunks), client.Text);
        Assert.True(client.Received.Count < chunks.Count, "tokens queued behind a slow client are sent joined, not one object each");
    }

    [Fact]
    public async Task EventsPastTheCapacity_AreDroppedWithEveryLaterOne_AndWhatWasQueuedStillGoesOut()
    {
        var client = new GatedClient();
        var capacity = 4 * StreamRelay.EventWeight;
        var relay = new StreamRelay(client.SendAsync, capacity, CancellationToken.None);
        var chunk = new string('x', StreamRelay.EventWeight);

        var sent = new StringBuilder();
        for (var i = 0; i < 10; i++)
        {
            // Each its own message, so none joins another: every one weighs its text and an event.
            await relay.Add(new TokenEmitted($"m{i}", chunk));
            sent.Append(chunk);
        }
        client.Open();
        await Task.Delay(50);
        await relay.Add(new TokenEmitted("m-late", "after the queue drained"));
        await relay.FinishAsync();

        Assert.NotEmpty(client.Received);
        Assert.True(client.Text.Length < sent.Length, "what did not fit was not held");
        Assert.StartsWith(client.Text, sent.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(client.Received, e => e is TokenEmitted { MessageId: "m-late" });
    }

    [Fact]
    public async Task AClientThatWentAway_GetsNothingMore_AndFinishing_DoesNotFail()
    {
        var sends = 0;
        var relay = new StreamRelay(_ =>
        {
            sends++;
            throw new IOException("The client went away.");
        }, 1024, CancellationToken.None);

        await relay.Add(new RunStarted("run", "session"));
        await Task.Delay(50);
        await relay.Add(new TokenEmitted("m1", "nobody reads this"));
        await relay.FinishAsync();

        Assert.Equal(1, sends);
    }
}
