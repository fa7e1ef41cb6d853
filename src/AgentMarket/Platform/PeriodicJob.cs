using AgentMarket.Admin.Metrics;

namespace AgentMarket.Platform;

/// <summary>
/// The loop of a background job that works in ticks (ADR-168): a tick every <see cref="Interval"/> on
/// <see cref="Clock"/>, the first at start-up or one interval later. A tick that throws is counted as a failed run
/// (when the job has a <see cref="MetricName"/>), logged by the job, and the loop goes on: a job never stops the host
/// over one bad tick. Cancellation at shutdown ends the loop without a failure; any other cancellation is a failed tick.
/// </summary>
abstract class PeriodicJob : BackgroundService
{
    /// <summary>The time between ticks, read once when the loop starts.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>The clock ticks follow; jobs given the app's <see cref="TimeProvider"/> return it, so tests can move time.</summary>
    protected virtual TimeProvider Clock => TimeProvider.System;

    /// <summary>Whether the first tick runs at start-up (work left by a stopped process is picked up at once) or one interval later.</summary>
    protected virtual bool TicksAtStart => true;

    /// <summary>The job's label in <see cref="PlatformMeters.JobRan"/>, or null for a job whose runs are not counted.</summary>
    protected virtual string? MetricName => null;

    /// <summary>One tick's work.</summary>
    protected abstract Task TickAsync(CancellationToken ct);

    /// <summary>Logs a tick that threw; the job says what failed, under its own logger's category.</summary>
    protected abstract void LogFailure(Exception exception);

    /// <summary>
    /// Runs <paramref name="batch"/> until it handles fewer than <paramref name="batchSize"/> rows: a backlog is worked off
    /// in one tick, each batch a short statement of its own so it holds no lock for long.
    /// </summary>
    protected static async Task RepeatWhileFullAsync(int batchSize, Func<Task<int>> batch)
    {
        int handled;
        do
        {
            handled = await batch();
        }
        while (handled == batchSize);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Clock);
        if (TicksAtStart)
        {
            await TryTickAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await TryTickAsync(stoppingToken);
        }
    }

    async Task TryTickAsync(CancellationToken stoppingToken)
    {
        try
        {
            await TickAsync(stoppingToken);
            RecordRun(succeeded: true);
        }
        // Only the host's stopping ends the loop quietly; any other cancellation (an HTTP client's timeout) is one bad tick.
        catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            RecordRun(succeeded: false);
            LogFailure(exception);
        }
    }

    void RecordRun(bool succeeded)
    {
        if (MetricName is { } job)
        {
            PlatformMeters.JobRan(job, succeeded);
        }
    }
}
