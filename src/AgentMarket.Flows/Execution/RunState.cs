using System.Collections.Concurrent;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Services;

namespace AgentMarket.Flows.Execution;

/// <summary>The state of one output slot in one run.</summary>
internal enum SlotState : byte
{
    /// <summary>Not computed (yet).</summary>
    Unset,

    /// <summary>Holds a value.</summary>
    Set,

    /// <summary>Will never hold a value: the node skipped it (a router's other branch) or was skipped.</summary>
    Dead,
}

/// <summary>
/// Everything that belongs to one run and never to the plan: slot values, tweaks, counters, the run record and the
/// cancellation that ends every branch. Created per run and dropped afterwards.
/// </summary>
internal sealed class RunState : IDisposable
{
    readonly CancellationTokenSource _wallTime;
    readonly CancellationTokenSource _linked;
    readonly ConcurrentDictionary<string, long> _outputBytesByKey = new(StringComparer.Ordinal);
    readonly Lock _recordsGate = new();
    readonly List<NodeRun> _records = [];
    int _nodeExecutions;
    int _modelCalls;
    int _outboundRequests;
    long _outputBytes;
    RunError? _failure;
    RunStatus _failureStatus;

    public RunState(
        ExecutionPlan plan,
        RunRequest request,
        FlowServices services,
        IRunEventSink events,
        string runId,
        bool streaming,
        CancellationToken callerToken)
    {
        Plan = plan;
        Request = request;
        SessionId = request.SessionId ?? plan.FlowId ?? "";
        Services = services with { Messages = new RunSessionMessages(services.Messages, SessionId) };
        Events = events;
        RunId = runId;
        Streaming = streaming;
        CallerToken = callerToken;
        Slots = new object?[plan.SlotCount];
        SlotStates = new SlotState[plan.SlotCount];
        Tweaks = TweakOverlay.Build(plan, request.Tweaks, streaming);
        InputTargets = new bool[plan.Nodes.Length];
        if (request.InputValue is not null)
        {
            var inputType = request.InputType.ToLowerInvariant();
            foreach (var node in plan.Nodes)
            {
                InputTargets[node.Index] = (node.Role & NodeRole.Input) != 0 && (inputType == "any" || node.IdLower.Contains(inputType, StringComparison.Ordinal));
            }
        }

        _wallTime = new CancellationTokenSource(services.Limits.WallTime, services.Time);
        _linked = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _wallTime.Token);
    }

    public ExecutionPlan Plan { get; }

    public RunRequest Request { get; }

    public FlowServices Services { get; }

    public IRunEventSink Events { get; }

    public string RunId { get; }

    public string SessionId { get; }

    public string? FlowId => Plan.FlowId;

    /// <summary>Streaming request: the implicit <c>stream</c> tweak is true and events are written.</summary>
    public bool Streaming { get; }

    public CancellationToken CallerToken { get; }

    /// <summary>Fires on caller cancellation, wall time, or the first failure: every branch watches it.</summary>
    public CancellationToken Token => _linked.Token;

    public object?[] Slots { get; }

    public SlotState[] SlotStates { get; }

    public TweakOverlay Tweaks { get; }

    /// <summary>Per node: the request's input_value is written into its input_value field (format §3.2).</summary>
    public bool[] InputTargets { get; }

    public Dictionary<string, string?> Secrets { get; } = new(StringComparer.Ordinal);

    public RunError? Failure => Volatile.Read(ref _failure);

    public RunStatus FailureStatus => _failureStatus;

    public bool WallTimeExpired => _wallTime.IsCancellationRequested;

    public void BeginNodeExecution()
    {
        if (Interlocked.Increment(ref _nodeExecutions) > Services.Limits.MaxNodeExecutions)
        {
            throw new RunLimitException(RunErrorCodes.NodeExecutionsExceeded, $"The run reached its limit of {Services.Limits.MaxNodeExecutions} node executions.");
        }
    }

    public void ChargeModelCall()
    {
        if (Interlocked.Increment(ref _modelCalls) > Services.Limits.MaxModelCalls)
        {
            throw new RunLimitException(RunErrorCodes.ModelCallsExceeded, $"The run reached its limit of {Services.Limits.MaxModelCalls} model calls.");
        }
    }

    public void ChargeOutboundRequest()
    {
        if (Interlocked.Increment(ref _outboundRequests) > Services.Limits.MaxOutboundRequests)
        {
            throw new RunLimitException(RunErrorCodes.OutboundRequestsExceeded, $"The run reached its limit of {Services.Limits.MaxOutboundRequests} outbound requests.");
        }
    }

    /// <summary>
    /// Charges output bytes for one message (by id): the running total of a message is charged once, so a streamed
    /// message that later reaches a Chat Output is not counted twice.
    /// </summary>
    public void ChargeOutputBytes(string key, long totalBytesOfMessage)
    {
        long added = 0;
        _outputBytesByKey.AddOrUpdate(
            key,
            _ =>
            {
                added = totalBytesOfMessage;
                return totalBytesOfMessage;
            },
            (_, previous) =>
            {
                added = Math.Max(0, totalBytesOfMessage - previous);
                return Math.Max(previous, totalBytesOfMessage);
            });
        if (Interlocked.Add(ref _outputBytes, added) > Services.Limits.MaxOutputBytes)
        {
            throw new RunLimitException(RunErrorCodes.OutputBytesExceeded, $"The run's output exceeded its limit of {Services.Limits.MaxOutputBytes} bytes.");
        }
    }

    /// <summary>Records the run's failure (the first one wins) and stops every branch.</summary>
    public void Fail(RunError error, RunStatus status)
    {
        if (Interlocked.CompareExchange(ref _failure, error, null) is null)
        {
            _failureStatus = status;
        }

        _linked.Cancel();
    }

    /// <summary>
    /// Writes a bookkeeping event (node started/finished). Once the run is ending its token is canceled and the event
    /// is dropped rather than thrown, so the scheduler always drains its in-flight nodes.
    /// </summary>
    public async ValueTask EmitQuietlyAsync(RunEvent runEvent)
    {
        if (!Events.Enabled)
        {
            return;
        }

        try
        {
            await Events.WriteAsync(runEvent, Token);
        }
        catch (OperationCanceledException) when (Token.IsCancellationRequested)
        {
            // The run is ending; the reader gets the final event.
        }
    }

    public void Record(NodeRun record)
    {
        lock (_recordsGate)
        {
            _records.Add(record);
        }
    }

    public List<NodeRun> Records()
    {
        lock (_recordsGate)
        {
            return [.. _records];
        }
    }

    public void Dispose()
    {
        _linked.Dispose();
        _wallTime.Dispose();
    }
}
