using Microsoft.Data.Sqlite;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Copies SQLite's write-ahead log back into the database file on a connection of its own, every 50 ms, instead of in
/// the commit that crosses <c>wal_autocheckpoint</c>'s threshold: that commit's caller waited for the whole copy, a
/// large part of the gateway's slowest runs (docs/benchmarks.md, "Gateway"; ADR-125). Writers turn the automatic
/// checkpoint off (<see cref="SqlitePragmas"/>).
/// A passive checkpoint never waits, so under constant writing it may never catch up with the log at a moment when no
/// reader is in it, and the log would not start over; past <see cref="RestartAfterFrames"/> a restarting checkpoint
/// waits for that moment, at most 10 ms. It holds the writer lock while it copies and waits, which is why the passive
/// pass copies first: spaced out more (once a second was measured), the log grew to 300 MB and each restart took longer
/// (a 120 ms stall). A reader that keeps one snapshot for long keeps the log from starting over until it ends.
/// </summary>
sealed class SqliteCheckpointer(DatabaseConnection database, ILogger<SqliteCheckpointer> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(5);

    /// <summary>About 16 MB of log with 4 KB pages, four times SQLite's own threshold.</summary>
    public const int RestartAfterFrames = 4000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (database.Provider != DatabaseProvider.Sqlite)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CheckpointUntilStoppedAsync(stoppingToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Never stops the host: the log only grows until the next try (writers do not checkpoint).
                logger.LogError(exception, "WAL checkpoints failed; trying again in {Delay}", RetryAfterFailure);
                await Task.Delay(RetryAfterFailure, stoppingToken);
            }
        }
    }

    async Task CheckpointUntilStoppedAsync(CancellationToken stoppingToken)
    {
        await using var connection = new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync(stoppingToken);
        await using (var setup = connection.CreateCommand())
        {
            // A restarting checkpoint waits this long for writers and readers, then gives up until its next turn.
            setup.CommandText = "PRAGMA busy_timeout=10; PRAGMA wal_autocheckpoint=0;";
            await setup.ExecuteNonQueryAsync(stoppingToken);
        }
        long restartedAt = -1;
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var frames = await CheckpointAsync(connection, "PASSIVE", stoppingToken);
            // Not again for a log that a restart left as it was and nothing has written to since (an idle app).
            if (frames > RestartAfterFrames && frames != restartedAt)
            {
                await CheckpointAsync(connection, "RESTART", stoppingToken);
                restartedAt = frames;
            }
        }
    }

    /// <summary>Runs one checkpoint; returns the frames in the log when it ran.</summary>
    static async Task<long> CheckpointAsync(SqliteConnection connection, string mode, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? reader.GetInt64(1) : 0;
    }
}
