using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using AgentMarket.Admin.Metrics;
using AgentMarket.Platform;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// The loop every background job shares (ADR-168): a tick that throws is counted and logged and the next tick still
/// runs; stopping the host ends a tick in progress without a failure; the first tick runs at start or one interval on.
/// </summary>
public class PeriodicJobTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ATickThatThrows_IsCountedAndLogged_AndTheNextTickRuns()
    {
        var job = new ProbeJob(TimeSpan.FromMilliseconds(10), ticksAtStart: true) { FailFirstTick = true };
        var outcomes = new ConcurrentQueue<string>();
        using var listener = JobRunsOf(job.Name, outcomes);

        await job.StartAsync(CancellationToken.None);
        await job.Ticked(3).WaitAsync(Patience); // the second tick has been counted by then
        await job.StopAsync(CancellationToken.None);

        var failure = Assert.Single(job.Failures);
        Assert.Same(job.FirstTickFailure, failure);
        Assert.Equal("failed", outcomes.First());
        Assert.Contains("succeeded", outcomes);
        Assert.True(job.ExecuteTask!.IsCompleted);
        Assert.False(job.ExecuteTask.IsFaulted);
    }

    [Fact]
    public async Task ACancellationThatIsNotShutdown_IsATickFailure_AndTheNextTickRuns()
    {
        // What an HTTP client's timeout throws inside a tick: the host is not stopping, so it must not end the job.
        var job = new ProbeJob(TimeSpan.FromMilliseconds(10), ticksAtStart: true)
        {
            FailFirstTick = true,
            FirstTickFailure = new TaskCanceledException("The request timed out."),
        };

        await job.StartAsync(CancellationToken.None);
        await job.Ticked(2).WaitAsync(Patience);
        await job.StopAsync(CancellationToken.None);

        Assert.Same(job.FirstTickFailure, Assert.Single(job.Failures));
        Assert.False(job.ExecuteTask!.IsFaulted);
    }

    [Fact]
    public async Task StoppingDuringATick_EndsTheLoop_WithoutAFailure()
    {
        var job = new ProbeJob(TimeSpan.FromMilliseconds(10), ticksAtStart: true) { WaitInTick = true };

        await job.StartAsync(CancellationToken.None);
        await job.Ticked(1).WaitAsync(Patience);
        await job.StopAsync(CancellationToken.None);

        Assert.True(job.ExecuteTask!.IsCompleted);
        Assert.False(job.ExecuteTask.IsFaulted);
        Assert.Empty(job.Failures);
    }

    [Fact]
    public async Task TheFirstTick_RunsAtStart_OrOneIntervalLater()
    {
        var atStart = new ProbeJob(TimeSpan.FromHours(1), ticksAtStart: true);
        await atStart.StartAsync(CancellationToken.None);
        await atStart.Ticked(1).WaitAsync(Patience);
        await atStart.StopAsync(CancellationToken.None);

        var interval = TimeSpan.FromMilliseconds(300);
        var later = new ProbeJob(interval, ticksAtStart: false);
        var elapsed = Stopwatch.StartNew();
        await later.StartAsync(CancellationToken.None);
        await later.Ticked(1).WaitAsync(Patience);
        elapsed.Stop();
        await later.StopAsync(CancellationToken.None);
        Assert.True(elapsed.Elapsed >= interval * 0.9, $"The first tick came after {elapsed.Elapsed}.");
    }

    /// <summary>Collects the outcomes <see cref="PlatformMeters.JobRan"/> records for <paramref name="job"/> (other tests' apps record theirs too).</summary>
    static MeterListener JobRunsOf(string job, ConcurrentQueue<string> outcomes)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument == PlatformMeters.JobRuns)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var values = tags.ToArray().ToDictionary(t => t.Key, t => t.Value as string);
            if (values.GetValueOrDefault("job") == job)
            {
                outcomes.Enqueue(values["outcome"]!);
            }
        });
        listener.Start();
        return listener;
    }

    sealed class ProbeJob(TimeSpan interval, bool ticksAtStart) : PeriodicJob
    {
        readonly ConcurrentDictionary<int, TaskCompletionSource> _ticked = new();
        int _ticks;

        public string Name { get; } = $"probe_{Guid.NewGuid():N}";

        public bool FailFirstTick { get; init; }

        public bool WaitInTick { get; init; }

        public Exception FirstTickFailure { get; init; } = new InvalidOperationException("The first tick fails.");

        public ConcurrentQueue<Exception> Failures { get; } = new();

        protected override TimeSpan Interval => interval;

        protected override bool TicksAtStart => ticksAtStart;

        protected override string MetricName => Name;

        /// <summary>Completes once the <paramref name="tick"/>-th tick has started.</summary>
        public Task Ticked(int tick) => Signal(tick).Task;

        protected override async Task TickAsync(CancellationToken ct)
        {
            var tick = Interlocked.Increment(ref _ticks);
            Signal(tick).TrySetResult();
            if (FailFirstTick && tick == 1)
            {
                throw FirstTickFailure;
            }
            if (WaitInTick)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
        }

        protected override void LogFailure(Exception exception) => Failures.Enqueue(exception);

        TaskCompletionSource Signal(int tick) => _ticked.GetOrAdd(tick, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
    }
}
