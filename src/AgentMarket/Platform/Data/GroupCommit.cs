using System.Data.Common;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Group commit, as databases write their logs and TigerBeetle its transfers: callers queue an item and wait for its
/// result; one loop takes everything queued, up to <paramref name="maxBatch"/>, and writes it in one transaction, so
/// concurrent requests share a commit instead of queueing for one each. A batch that fails on a lock, a deadlock or a
/// unique race is retried; one that still fails is written item by item, so one bad item never fails its neighbours.
/// The loop starts with the first item rather than with the host: start-up work of other areas (the first operator's
/// sign-up grants credits) runs before later hosted services have started.
/// </summary>
/// <param name="drainOnStop">Write what is queued when the host stops (else the waiting callers are cancelled).</param>
abstract class GroupCommit<TItem, TResult>(int maxBatch, int capacity, bool drainOnStop, ILogger logger) : IHostedService, IAsyncDisposable
{
    const int MaxAttempts = 5;

    sealed record Pending(TItem Item)
    {
        public TaskCompletionSource<TResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    readonly CancellationTokenSource _stopping = new();
    readonly Lock _startLock = new();
    Task? _loop;
    int _stopped;
    int _disposed;

    /// <summary>Writes one batch in one transaction and returns each item's result, in order.</summary>
    protected abstract Task<TResult[]> WriteAsync(IReadOnlyList<TItem> batch);

    /// <summary>What to log about an item that could not be written.</summary>
    protected abstract string Describe(TItem item);

    /// <summary>
    /// Queues the item and waits for its result. Cancelling the wait does not cancel the write, which may still
    /// commit; callers make that safe with idempotency keys.
    /// </summary>
    protected async Task<TResult> EnqueueAsync(TItem item, CancellationToken cancellationToken)
    {
        EnsureRunning();
        var pending = new Pending(item);
        await _queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>A failure that a retry of the same transaction can get past.</summary>
    public static bool IsTransient(DbException exception) => exception switch
    {
        // serialization failure, deadlock, unique violation (another replica wrote the same key or resolution first)
        PostgresException { SqlState: "40001" or "40P01" or "23505" } => true,
        // SQLITE_BUSY / SQLITE_LOCKED: another process holds the write lock past the busy timeout
        SqliteException { SqliteErrorCode: 5 or 6 } => true,
        _ => false,
    };

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureRunning();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return; // registered as a singleton and as a hosted service, so the container stops and disposes it twice
        }
        _queue.Writer.TryComplete();
        if (!drainOnStop)
        {
            await _stopping.CancelAsync();
        }
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await StopAsync(CancellationToken.None);
        _stopping.Dispose();
    }

    void EnsureRunning()
    {
        if (_loop is not null)
        {
            return;
        }
        lock (_startLock)
        {
            _loop ??= Task.Run(() => RunAsync(_stopping.Token));
        }
    }

    async Task RunAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(maxBatch);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                batch.Clear();
                while (batch.Count < maxBatch && _queue.Reader.TryRead(out var pending))
                {
                    batch.Add(pending);
                }
                await ProcessAsync(batch);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            while (_queue.Reader.TryRead(out var abandoned))
            {
                abandoned.Completion.TrySetCanceled(stoppingToken);
            }
        }
    }

    async Task ProcessAsync(List<Pending> batch)
    {
        try
        {
            await WriteWithRetriesAsync(batch);
        }
        catch (Exception exception) when (batch.Count > 1)
        {
            logger.LogWarning(exception, "A batch of {Count} failed; writing its items one by one", batch.Count);
            foreach (var pending in batch)
            {
                try
                {
                    await WriteWithRetriesAsync([pending]);
                }
                catch (Exception single)
                {
                    logger.LogError(single, "Could not write {Item}", Describe(pending.Item));
                    pending.Completion.TrySetException(single);
                }
            }
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Could not write {Item}", Describe(batch[0].Item));
            batch[0].Completion.TrySetException(exception);
        }
    }

    async Task WriteWithRetriesAsync(List<Pending> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var results = await WriteAsync(batch.ConvertAll(p => p.Item));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
                return;
            }
            catch (DbException exception) when (attempt < MaxAttempts && IsTransient(exception))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5 * attempt * attempt));
            }
        }
    }
}
