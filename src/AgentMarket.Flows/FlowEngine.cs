using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Validation;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentMarket.Flows;

/// <summary>
/// The flow engine: validates Langflow exports, compiles them into immutable plans, and runs plans with Langflow's
/// semantics. Thread-safe and stateless; use <see cref="Default"/>.
/// <code>
/// var compiled = FlowEngine.Default.Compile(json);              // report + plan (cache the plan per flow version)
/// if (compiled.Plan is { } plan)
///     var result = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = "hi" }, services, ct);
/// </code>
/// </summary>
public sealed partial class FlowEngine
{
    readonly FlowCompiler _compiler;
    readonly ILogger _logger;

    /// <summary>Creates an engine with every built-in component that logs run failures (by id, never content) to <paramref name="logger"/>.</summary>
    public FlowEngine(ILogger<FlowEngine> logger)
        : this(BuiltInComponents.Registry, logger)
    {
    }

    internal FlowEngine(ComponentRegistry registry, ILogger logger)
    {
        Registry = registry;
        _compiler = new FlowCompiler(registry);
        _logger = logger;
    }

    /// <summary>The engine with every built-in component, without logging.</summary>
    public static FlowEngine Default { get; } = new(BuiltInComponents.Registry, NullLogger.Instance);

    internal ComponentRegistry Registry { get; }

    /// <summary>The compatibility report of an export. Never throws, whatever the bytes.</summary>
    public CompatibilityReport Validate(ReadOnlyMemory<byte> utf8Json) => Compile(utf8Json).Report;

    /// <summary>The compatibility report of an export given as text. Never throws.</summary>
    public CompatibilityReport Validate(string json) => Validate(Encoding.UTF8.GetBytes(json ?? ""));

    /// <summary>
    /// Validates and compiles an export. <see cref="CompileResult.Plan"/> is null unless the report is runnable.
    /// <paramref name="flowId"/> replaces the export's id (the default session id and the messages' flow id).
    /// Never throws.
    /// </summary>
    public CompileResult Compile(ReadOnlyMemory<byte> utf8Json, string? flowId = null)
    {
        try
        {
            var (report, plan) = _compiler.Compile(FlowLoader.Load(utf8Json), flowId);
            return new CompileResult(report, plan);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A bug, not a property of the input: the property tests assert this code never appears.
            var issue = ReportIssue.Error(IssueCodes.InternalError, $"The validator failed on this file ({exception.GetType().Name}). Please report it.");
            return new CompileResult(new CompatibilityReport { Runnable = false, Format = "unreadable", Issues = [issue] }, null);
        }
    }

    /// <summary>Compiles an export given as text. Never throws.</summary>
    public CompileResult Compile(string json, string? flowId = null) => Compile(Encoding.UTF8.GetBytes(json ?? ""), flowId);

    /// <summary>
    /// Runs a plan to completion. Component failures, cancellation and limits come back as a <see cref="RunResult"/>
    /// with a stable error code, never as exceptions.
    /// </summary>
    public async Task<RunResult> RunAsync(ExecutionPlan plan, RunRequest request, FlowServices services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        using var run = new RunState(plan, request, services, NullEventSink.Instance, request.RunId ?? NewRunId(), streaming: false, cancellationToken);
        return Logged(await FlowRunner.RunAsync(run));
    }

    /// <summary>
    /// Runs a plan as a stream of typed events: <c>RunStarted</c>, node events, <c>MessageAdded</c> and
    /// <c>TokenEmitted</c> (Langflow's add_message/token), then exactly one <c>RunCompleted</c> or <c>RunFailed</c>.
    /// Model nodes that feed an output node stream tokens (the implicit <c>stream</c> tweak is true). Events are
    /// buffered in a bounded channel, so a slow reader slows the run; disposing the enumerator cancels the run.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> StreamAsync(
        ExecutionPlan plan,
        RunRequest request,
        FlowServices services,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(services);
        var channel = Channel.CreateBounded<RunEvent>(new BoundedChannelOptions(ChannelEventSink.Capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var runTask = Task.Run(() => RunStreamingAsync(plan, request, services, channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            await foreach (var runEvent in channel.Reader.ReadAllAsync(CancellationToken.None))
            {
                yield return runEvent;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await runTask;
        }
    }

    async Task RunStreamingAsync(ExecutionPlan plan, RunRequest request, FlowServices services, ChannelWriter<RunEvent> writer, CancellationToken cancellationToken)
    {
        try
        {
            using var run = new RunState(plan, request, services, new ChannelEventSink(writer), request.RunId ?? NewRunId(), streaming: true, cancellationToken);
            var result = Logged(await FlowRunner.RunAsync(run));
            RunEvent last = result.Status == RunStatus.Succeeded ? new RunCompleted(result) : new RunFailed(result);
            // The run's own token may be canceled (failure, wall time); the final event is still delivered unless the reader left.
            await writer.WriteAsync(last, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The reader stopped listening; nobody is left to tell.
        }
        finally
        {
            writer.TryComplete();
        }
    }

    static string NewRunId() => Guid.CreateVersion7().ToString();

    RunResult Logged(RunResult result)
    {
        if (result.Error is { } error)
        {
            LogRunFailed(_logger, result.RunId, result.FlowId, result.Status, error.Code, error.NodeId);
        }
        else
        {
            LogRunSucceeded(_logger, result.RunId, result.FlowId, result.Duration.TotalMilliseconds);
        }

        return result;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Flow run {RunId} of flow {FlowId} ended {Status}: {Code} at node {NodeId}")]
    private static partial void LogRunFailed(ILogger logger, string runId, string? flowId, RunStatus status, string code, string? nodeId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Flow run {RunId} of flow {FlowId} succeeded in {DurationMs} ms")]
    private static partial void LogRunSucceeded(ILogger logger, string runId, string? flowId, double durationMs);
}

/// <summary>The outcome of compiling an export.</summary>
/// <param name="Report">What the engine can do with the flow.</param>
/// <param name="Plan">The plan to run and cache, or null when the report is not runnable.</param>
public sealed record CompileResult(CompatibilityReport Report, ExecutionPlan? Plan);
