using System.Collections.Immutable;
using System.Threading.Channels;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// Runs a plan: a ready queue, not layers. A node starts as soon as its own inputs are ready, so independent
/// branches overlap without a barrier; synchronous components finish inline without a task or a thread hop.
/// One loop owns the scheduling state; components write only their own output slots. The first failure stops
/// every branch (Langflow aborts on the first error) and in-flight nodes are drained, so none outlives the run.
/// </summary>
internal static class FlowRunner
{
    public static async Task<RunResult> RunAsync(RunState run)
    {
        var startedAt = run.Services.Time.GetUtcNow();
        var started = run.Services.Time.GetTimestamp();
        var built = new bool[run.Plan.Nodes.Length];
        if (TweakOverlay.Conflict(run.Request) is { } conflict)
        {
            run.Fail(new RunError(RunErrorCodes.TweakConflictsWithInput, conflict), RunStatus.Failed);
        }
        else
        {
            try
            {
                await run.Events.WriteAsync(new RunStarted(run.RunId, run.SessionId), run.Token);
                await ResolveSecretsAsync(run);
                await ScheduleAsync(run, built);
            }
            catch (OperationCanceledException) when (run.Token.IsCancellationRequested)
            {
                // Canceled before or between nodes; classified below.
            }

            if (run.Failure is null && run.CallerToken.IsCancellationRequested)
            {
                run.Fail(new RunError(RunErrorCodes.Canceled, "The run was canceled."), RunStatus.Canceled);
            }
            else if (run.Failure is null && run.WallTimeExpired)
            {
                run.Fail(WallTimeError(run), RunStatus.LimitExceeded);
            }
        }

        var failure = run.Failure;
        return new RunResult
        {
            Status = failure is null ? RunStatus.Succeeded : run.FailureStatus,
            Error = failure,
            RunId = run.RunId,
            SessionId = run.SessionId,
            FlowId = run.FlowId,
            InputValue = run.Request.InputValue,
            Outputs = failure is null ? Outputs(run, built) : [],
            Nodes = [.. run.Records()],
            StartedAt = startedAt,
            Duration = run.Services.Time.GetElapsedTime(started),
        };
    }

    static async ValueTask ResolveSecretsAsync(RunState run)
    {
        foreach (var name in run.Plan.SecretNames.Concat(run.Tweaks.SecretNames))
        {
            if (!run.Secrets.ContainsKey(name))
            {
                run.Secrets[name] = await run.Services.Secrets.GetAsync(name, run.Token);
            }
        }
    }

    static async Task ScheduleAsync(RunState run, bool[] built)
    {
        var nodes = run.Plan.Nodes;
        var pending = new int[nodes.Length];
        var ready = new PriorityQueue<int, int>();
        foreach (var node in nodes)
        {
            pending[node.Index] = node.PredecessorCount;
        }

        foreach (var root in run.Plan.Roots)
        {
            ready.Enqueue(root, root);
        }

        Channel<(NodeExecution Execution, Exception? Error)>? completions = null;
        var inFlight = 0;
        while (true)
        {
            while (run.Failure is null && !run.Token.IsCancellationRequested && ready.TryDequeue(out var index, out _))
            {
                var node = nodes[index];
                if (ShouldSkip(run, node))
                {
                    await SkipAsync(run, node, ready, pending);
                    continue;
                }

                var execution = new NodeExecution(run, node);
                ValueTask task;
                try
                {
                    run.BeginNodeExecution();
                    await run.EmitQuietlyAsync(new NodeStarted(node.Id, node.DisplayName));
                    task = node.Tools.IsEmpty ? node.Component.ExecuteAsync(execution) : OfferTools(execution);
                }
                catch (Exception exception)
                {
                    task = ValueTask.FromException(exception);
                }

                if (task.IsCompleted)
                {
                    await FinishAsync(run, execution, ErrorOf(task), ready, pending, built);
                }
                else
                {
                    inFlight++;
                    completions ??= Channel.CreateUnbounded<(NodeExecution, Exception?)>(new UnboundedChannelOptions { SingleReader = true });
                    _ = TrackAsync(execution, task, completions.Writer);
                }
            }

            if (inFlight == 0)
            {
                return;
            }

            // Drained even after a failure: no node task outlives its run.
            var (finished, error) = await completions!.Reader.ReadAsync(CancellationToken.None);
            inFlight--;
            await FinishAsync(run, finished, error, ready, pending, built);
        }
    }

    static async Task TrackAsync(NodeExecution execution, ValueTask task, ChannelWriter<(NodeExecution, Exception?)> completions)
    {
        Exception? error = null;
        try
        {
            await task;
        }
        catch (Exception exception)
        {
            error = exception;
        }

        completions.TryWrite((execution, error));
    }

    static Exception? ErrorOf(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return null;
        }

        try
        {
            task.GetAwaiter().GetResult();
            return null;
        }
        catch (Exception exception)
        {
            return exception;
        }
    }

    /// <summary>A tool-mode node does not run on its own: it offers its functions to the Agent that calls them.</summary>
    static ValueTask OfferTools(NodeExecution execution)
    {
        var output = execution.Node.Spec.Output(Components.ComponentSpec.ToolOutputName)!;
        execution.Set(output, new ToolValue(execution.Node.Index, execution.Node.Tools));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Dead-path rule: a node whose every incoming edge is dead (a router picked another branch), or whose required
    /// input has only dead edges, is skipped and its own outputs die in turn; no empty message flows on.
    /// </summary>
    static bool ShouldSkip(RunState run, PlanNode node)
    {
        var anyEdge = false;
        var anyLive = false;
        foreach (var binding in node.Bindings)
        {
            var bindingLive = false;
            foreach (var edge in binding.Edges)
            {
                anyEdge = true;
                if (run.SlotStates[edge.Slot] == SlotState.Set)
                {
                    bindingLive = anyLive = true;
                }
            }

            if (!bindingLive && !binding.Edges.IsEmpty && binding.Field?.Required == true)
            {
                return true;
            }
        }

        return anyEdge && !anyLive;
    }

    static async ValueTask SkipAsync(RunState run, PlanNode node, PriorityQueue<int, int> ready, int[] pending)
    {
        for (var output = 0; output < node.Spec.Outputs.Length; output++)
        {
            run.SlotStates[node.FirstSlot + output] = SlotState.Dead;
        }

        var now = run.Services.Time.GetUtcNow();
        var record = new NodeRun(node.Id, node.DisplayName, node.Definition.Type, NodeRunStatus.Skipped, now, TimeSpan.Zero, null, null, 0, 0, null, 0, AsTool: false);
        run.Record(record);
        await run.EmitQuietlyAsync(new NodeFinished(record));
        Release(node, ready, pending);
    }

    static async ValueTask FinishAsync(RunState run, NodeExecution execution, Exception? error, PriorityQueue<int, int> ready, int[] pending, bool[] built)
    {
        var node = execution.Node;
        if (error is null)
        {
            for (var output = 0; output < node.Spec.Outputs.Length; output++)
            {
                var slot = node.FirstSlot + output;
                if (node.Requested[output] && run.SlotStates[slot] == SlotState.Unset)
                {
                    // A requested output the component did not set (a router's other branch) is dead.
                    run.SlotStates[slot] = SlotState.Dead;
                }
            }

            built[node.Index] = true;
            var record = execution.Finish(NodeRunStatus.Succeeded);
            run.Record(record);
            await run.EmitQuietlyAsync(new NodeFinished(record));
            Release(node, ready, pending);
            return;
        }

        var (nodeStatus, runError, runStatus) = Classify(run, execution, error);
        var failed = execution.Finish(nodeStatus, runError?.Code, runError?.Message);
        run.Record(failed);
        if (runError is not null)
        {
            run.Fail(runError, runStatus);
        }

        await run.EmitQuietlyAsync(new NodeFinished(failed));
    }

    static void Release(PlanNode node, PriorityQueue<int, int> ready, int[] pending)
    {
        foreach (var successor in node.Successors)
        {
            if (--pending[successor] == 0)
            {
                ready.Enqueue(successor, successor);
            }
        }
    }

    /// <summary>Which failure this is; cancellations caused by another node's failure are not failures of their own.</summary>
    internal static (NodeRunStatus Node, RunError? Error, RunStatus Run) Classify(RunState run, NodeExecution execution, Exception error)
    {
        var nodeId = execution.NodeId;
        var name = execution.DisplayName;
        return error switch
        {
            RunLimitException limit => (NodeRunStatus.Failed, new RunError(limit.Code, limit.Message, nodeId, name), RunStatus.LimitExceeded),
            OperationCanceledException when run.CallerToken.IsCancellationRequested =>
                (NodeRunStatus.Canceled, new RunError(RunErrorCodes.Canceled, "The run was canceled."), RunStatus.Canceled),
            OperationCanceledException when run.WallTimeExpired => (NodeRunStatus.Canceled, WallTimeError(run), RunStatus.LimitExceeded),
            OperationCanceledException when run.Failure is not null => (NodeRunStatus.Canceled, null, RunStatus.Failed),
            FlowComponentException component => (NodeRunStatus.Failed, new RunError(component.Code, component.Message, nodeId, name) { RetryAfter = component.RetryAfter }, RunStatus.Failed),
            _ => (NodeRunStatus.Failed, new RunError(RunErrorCodes.ComponentError, Truncate(error.Message), nodeId, name), RunStatus.Failed),
        };
    }

    static RunError WallTimeError(RunState run) =>
        new(RunErrorCodes.WallTimeExceeded, $"The run took longer than its limit of {run.Services.Limits.WallTime.TotalSeconds:0.###} s.");

    static string Truncate(string message) => message.Length <= 500 ? message : message[..500] + "…";

    static ImmutableArray<NodeOutput> Outputs(RunState run, bool[] built)
    {
        var request = run.Request;
        var outputs = ImmutableArray.CreateBuilder<NodeOutput>();
        var outputType = request.OutputType.ToLowerInvariant();
        foreach (var node in run.Plan.Nodes)
        {
            if (!built[node.Index])
            {
                continue;
            }

            var selected = !string.IsNullOrEmpty(request.OutputComponent)
                ? node.Id == request.OutputComponent || node.DisplayName == request.OutputComponent
                : outputType switch
                {
                    "debug" => true,
                    "any" => (node.Role & NodeRole.Output) != 0,
                    _ => (node.Role & NodeRole.Output) != 0 && node.IdLower.Contains(outputType, StringComparison.Ordinal),
                };
            if (!selected)
            {
                continue;
            }

            var values = ImmutableArray.CreateBuilder<OutputValue>();
            foreach (var output in node.Spec.Outputs)
            {
                var slot = node.Slot(output);
                if (run.SlotStates[slot] == SlotState.Set)
                {
                    values.Add(new OutputValue(output.Name, run.Slots[slot]));
                }
            }

            outputs.Add(new NodeOutput(node.Id, node.DisplayName, node.Definition.Type, values.ToImmutable()));
        }

        return outputs.ToImmutable();
    }
}
