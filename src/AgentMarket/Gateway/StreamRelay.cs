using System.Text;
using AgentMarket.Flows.Execution;

namespace AgentMarket.Gateway;

/// <summary>
/// Carries a streamed run's events to its client at the client's own pace (ADR-154). The engine's events are queued here
/// without waiting, so a client that reads slowly never holds the engine up: the run's wall-time clock measures the
/// run, not the client's reading, and it settles when the engine ends. One task sends the queue to the client and
/// <see cref="FinishAsync"/> waits for it, so the door writes its final frame after every event before it.
/// </summary>
/// <remarks>
/// Memory is bounded per run: queued text counts its UTF-8 bytes and every other event <see cref="EventWeight"/>, up to
/// <paramref name="capacity"/>. A streamed answer can be no longer than the run's output limit, so a run within its limits
/// fits; consecutive tokens of one message are joined, so a slow client costs the text, not an object per token. Events
/// past the capacity are dropped with every later one, never just some (a stream with a hole in the middle would read
/// as a whole answer): the client gets what was queued, then the final frame, which carries the whole answer. A client
/// that goes away (a failed write) gets nothing more, as before (ADR-133), and what was queued for it is let go.
/// </remarks>
sealed class StreamRelay
{
    /// <summary>What a queued event without text counts for: about what a small event record and its queue slot take.</summary>
    public const int EventWeight = 256;

    readonly Func<RunEvent, ValueTask> _send;
    readonly CancellationToken _clientGone;
    readonly long _capacity;
    readonly Lock _gate = new();
    readonly Queue<Queued> _queue = new();
    readonly Task _sending;
    Queued? _last;
    long _queuedWeight;
    bool _ended;
    bool _full;
    bool _gone;
    TaskCompletionSource? _wake;

    public StreamRelay(Func<RunEvent, ValueTask> send, long capacity, CancellationToken clientGone)
    {
        _send = send;
        _clientGone = clientGone;
        _capacity = capacity;
        _sending = Task.Run(SendAsync, CancellationToken.None);
    }

    /// <summary>Queues an event for the client; never waits.</summary>
    public ValueTask Add(RunEvent runEvent)
    {
        lock (_gate)
        {
            if (_ended || _full || _gone)
            {
                return ValueTask.CompletedTask;
            }
            var joinsLast = runEvent is TokenEmitted next && _last is { Tokens: not null } last && last.MessageId == next.MessageId;
            var weight = (joinsLast ? 0 : EventWeight) + runEvent switch
            {
                TokenEmitted token => Encoding.UTF8.GetByteCount(token.Chunk),
                MessageAdded added => Encoding.UTF8.GetByteCount(added.Message.Text),
                _ => 0,
            };
            if (_queuedWeight + weight > _capacity)
            {
                _full = true;
                return ValueTask.CompletedTask;
            }
            _queuedWeight += weight;
            if (joinsLast)
            {
                _last!.Tokens!.Append(((TokenEmitted)runEvent).Chunk);
                _last.Weight += weight;
            }
            else
            {
                _last = runEvent is TokenEmitted first
                    ? new Queued(null, first.MessageId, new StringBuilder(first.Chunk), weight)
                    : new Queued(runEvent, null, null, weight);
                _queue.Enqueue(_last);
            }
            Wake();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The run has ended: waits until the client has every queued event, or has gone away. A door's writer failing for
    /// another reason (a bug) surfaces here.
    /// </summary>
    public async Task FinishAsync()
    {
        lock (_gate)
        {
            _ended = true;
            Wake();
        }
        await _sending;
    }

    async Task SendAsync()
    {
        while (true)
        {
            Task? idle = null;
            RunEvent? next = null;
            lock (_gate)
            {
                if (_queue.TryDequeue(out var queued))
                {
                    _queuedWeight -= queued.Weight;
                    if (ReferenceEquals(queued, _last))
                    {
                        _last = null; // tokens that come now start a new frame, not a part of one already sent
                    }
                    next = queued.Event ?? new TokenEmitted(queued.MessageId!, queued.Tokens!.ToString());
                }
                else if (_ended)
                {
                    return;
                }
                else
                {
                    _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    idle = _wake.Task;
                }
            }
            if (idle is not null)
            {
                await idle;
                continue;
            }
            try
            {
                await _send(next!);
            }
            catch (Exception error)
            {
                lock (_gate)
                {
                    _gone = true;
                    _queue.Clear();
                    _last = null;
                    _queuedWeight = 0;
                }
                // A client that went away ends the stream quietly; any other failure is the door's writer's bug, for
                // FinishAsync to raise.
                if (error is IOException || (error is OperationCanceledException && _clientGone.IsCancellationRequested))
                {
                    return;
                }
                throw;
            }
        }
    }

    void Wake()
    {
        _wake?.TrySetResult();
        _wake = null;
    }

    /// <summary>One queued event, or the joined text of consecutive tokens of one message.</summary>
    sealed class Queued(RunEvent? runEvent, string? messageId, StringBuilder? tokens, long weight)
    {
        public RunEvent? Event { get; } = runEvent;
        public string? MessageId { get; } = messageId;
        public StringBuilder? Tokens { get; } = tokens;
        public long Weight { get; set; } = weight;
    }
}
