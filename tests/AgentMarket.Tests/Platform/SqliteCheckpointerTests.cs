using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// Commits no longer checkpoint the SQLite log themselves; the app's checkpointer does, in the background, so the log is
/// copied back and starts over instead of growing without end.
/// </summary>
public class SqliteCheckpointerTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ALogWrittenWithoutAutomaticCheckpoints_IsCopiedBackByTheApp_AndStartsOver()
    {
        var checkpointer = app.Services.GetServices<IHostedService>().OfType<SqliteCheckpointer>().Single();
        if (TestDatabase.IsPostgres)
        {
            // PostgreSQL checkpoints itself: the service ends at once, touching nothing (this run's SQLite pass covers the rest).
            Assert.True(checkpointer.ExecuteTask!.IsCompletedSuccessfully);
            return;
        }
        Assert.False(checkpointer.ExecuteTask!.IsCompleted); // running for as long as the app does
        await using var connection = new SqliteConnection(app.Database.ConnectionString);
        await connection.OpenAsync();
        await ExecuteAsync(connection, "PRAGMA wal_autocheckpoint=0; CREATE TABLE IF NOT EXISTS checkpoint_probe (id INTEGER PRIMARY KEY, data BLOB)");
        // About 4,000 pages of log, four times SQLite's own threshold, which this connection has switched off; in one
        // transaction, so the log cannot start over halfway.
        await ExecuteAsync(connection, "BEGIN; " + string.Concat(Enumerable.Repeat("INSERT INTO checkpoint_probe (data) VALUES (randomblob(400000)); ", 40)) + "COMMIT;");

        // The app's checkpointer copies the whole log back (this test only reads the shared log index, never checkpoints)…
        var (frames, copied) = LogIndex();
        Assert.True(frames >= 3000, $"The log holds {frames} frames.");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (copied < frames && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            (frames, copied) = LogIndex();
        }
        Assert.True(copied == frames, $"{copied} of the log's {frames} frames were copied back.");

        // …so the next write starts the log over.
        await ExecuteAsync(connection, "INSERT INTO checkpoint_probe (data) VALUES (x'00')");
        Assert.True(LogIndex().Frames < 100, $"The log did not start over: {LogIndex().Frames} frames.");
        await ExecuteAsync(connection, "DROP TABLE checkpoint_probe");
    }

    /// <summary>
    /// The frames in the log and how many of them a checkpoint copied back, from SQLite's shared log index (the
    /// <c>-shm</c> file: the header's <c>mxFrame</c> at byte 16, the checkpoint's <c>nBackfill</c> at byte 96, both in
    /// the machine's byte order).
    /// </summary>
    (long Frames, long Copied) LogIndex()
    {
        var shm = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(app.Database.ConnectionString).DataSource + "-shm";
        using var file = new FileStream(shm, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        Span<byte> header = stackalloc byte[100];
        file.ReadExactly(header);
        return (BitConverter.ToUInt32(header[16..20]), BitConverter.ToUInt32(header[96..100]));
    }

    static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
