using System.Data.Common;
using System.Text;
using Npgsql;

namespace AgentMarket.Platform.Data;

/// <summary>
/// Statements that go to the database together. On PostgreSQL they are one <see cref="NpgsqlBatch"/>: one round trip
/// however many there are. A group-commit loop's transaction is a chain of round trips, and under load each one waits
/// for the server and then for a thread to resume on; that waiting, not the statements, was most of a batch's time
/// (docs/benchmarks.md, "Gateway"). On SQLite, in-process, they run one after another.
/// <para>
/// A statement with a reader must return exactly one set of rows (a <c>SELECT</c>), and one without must return none:
/// PostgreSQL's reader passes over the results of statements without rows, so the readers take the result sets in order.
/// A statement's values are taken when it is added, on both databases.
/// </para>
/// </summary>
sealed class StatementBatch(DbConnection connection, DbTransaction? transaction) : IAsyncDisposable
{
    /// <summary>Below both databases' limits on bound parameters per statement (SQLite 32,766; PostgreSQL 65,535).</summary>
    const int MaxParameters = 30_000;

    /// <param name="Read">Reads the statement's rows; null when it returns none.</param>
    /// <param name="RunOnSqlite">How SQLite runs it, when not once as it is (a statement re-bound for many rows).</param>
    sealed record Statement(DbCommand Command, Func<DbDataReader, Task>? Read, Func<Task>? RunOnSqlite = null);

    readonly List<Statement> _statements = [];
    bool _executed;

    bool IsPostgres => connection is NpgsqlConnection;

    /// <summary>Adds a statement and returns its command, for its text and parameters.</summary>
    /// <param name="read">Reads the statement's rows; null for a statement that returns none.</param>
    public DbCommand Add(Func<DbDataReader, Task>? read = null)
    {
        var command = NewCommand();
        _statements.Add(new Statement(command, read));
        return command;
    }

    /// <summary>
    /// Adds one statement (an insert, an upsert) applied to many rows, the way each database does it fastest.
    /// <para>
    /// PostgreSQL: one multi-row statement per chunk of rows.
    /// </para>
    /// <para>
    /// SQLite: one single-row statement, prepared once and executed again for every row. SQLite runs in-process, so a
    /// row costs microseconds, and a multi-row statement is slower there: SQLite looks up every named parameter by a
    /// linear scan of the statement's names, when it parses the statement and again when each value is bound, so a
    /// statement with n parameters costs O(n²). At a few thousand parameters (a batch of 64 runs' records) those string
    /// comparisons took more of the single writer's time than the inserts did (docs/benchmarks.md, "Gateway").
    /// </para>
    /// </summary>
    /// <param name="head">The statement up to its <c>VALUES</c> list, ending in <c>VALUES </c>.</param>
    /// <param name="tail">What follows the values (an <c>ON CONFLICT</c> clause), or empty.</param>
    /// <param name="width">How many parameters one row binds.</param>
    /// <param name="bind">
    /// Adds one row's <paramref name="width"/> parameters to the command, named by <see cref="RowStatements.Name"/>(column,
    /// row) with the row number it is given.
    /// </param>
    public void AddRows<T>(string head, string tail, int width, IReadOnlyList<T> rows, Action<DbCommand, T, int> bind)
    {
        if (rows.Count == 0)
        {
            return;
        }
        if (!IsPostgres)
        {
            var single = NewCommand();
            single.CommandText = head + Placeholders(width, 0) + tail;
            // The values are taken now, as PostgreSQL's statements take them, not when the batch runs.
            var bound = rows.Select(row =>
            {
                single.Parameters.Clear();
                bind(single, row, 0);
                return single.Parameters.Cast<DbParameter>().ToArray();
            }).ToList();
            single.Parameters.Clear();
            _statements.Add(new Statement(single, null, async () =>
            {
                foreach (var parameters in bound)
                {
                    single.Parameters.Clear();
                    single.Parameters.AddRange(parameters);
                    await single.ExecuteNonQueryAsync(); // prepared on the first row, only re-bound after
                }
            }));
            return;
        }
        var perChunk = Math.Max(1, MaxParameters / width);
        for (var start = 0; start < rows.Count; start += perChunk)
        {
            var count = Math.Min(perChunk, rows.Count - start);
            var chunk = Add();
            var text = new StringBuilder(head);
            for (var r = 0; r < count; r++)
            {
                text.Append(r == 0 ? "" : ", ").Append(Placeholders(width, r));
                bind(chunk, rows[start + r], r);
            }
            chunk.CommandText = text.Append(tail).ToString();
        }
    }

    /// <summary>Sends the statements; a second call sends nothing.</summary>
    public async Task ExecuteAsync()
    {
        if (_executed || _statements.Count == 0)
        {
            return;
        }
        _executed = true;
        if (connection is NpgsqlConnection postgres)
        {
            await ExecuteTogetherAsync(postgres);
            return;
        }
        foreach (var (command, read, runOnSqlite) in _statements)
        {
            if (runOnSqlite is not null)
            {
                await runOnSqlite();
            }
            else if (read is null)
            {
                await command.ExecuteNonQueryAsync();
            }
            else
            {
                await using var reader = await command.ExecuteReaderAsync();
                await read(reader);
            }
        }
    }

    async Task ExecuteTogetherAsync(NpgsqlConnection postgres)
    {
        await using var batch = new NpgsqlBatch(postgres, (NpgsqlTransaction?)transaction);
        foreach (var statement in _statements)
        {
            var command = new NpgsqlBatchCommand(statement.Command.CommandText);
            var parameters = statement.Command.Parameters.Cast<NpgsqlParameter>().ToArray();
            statement.Command.Parameters.Clear(); // a parameter belongs to one collection at a time
            command.Parameters.AddRange(parameters);
            batch.BatchCommands.Add(command);
        }
        var readers = _statements.Select(s => s.Read).OfType<Func<DbDataReader, Task>>().ToList();
        if (readers.Count == 0)
        {
            await batch.ExecuteNonQueryAsync();
            return;
        }
        await using var reader = await batch.ExecuteReaderAsync();
        for (var i = 0; i < readers.Count; i++)
        {
            if (i > 0 && !await reader.NextResultAsync())
            {
                throw new InvalidOperationException($"The batch returned {i} sets of rows for {readers.Count} readers.");
            }
            await readers[i](reader);
        }
        // Reading on surfaces an error of a statement after the last reader here rather than when the reader is
        // disposed, and a result set no reader took is a statement without a reader that returned rows.
        if (await reader.NextResultAsync())
        {
            throw new InvalidOperationException($"The batch returned more sets of rows than its {readers.Count} readers.");
        }
    }

    DbCommand NewCommand()
    {
        if (_executed)
        {
            throw new InvalidOperationException("The batch was already sent.");
        }
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        return command;
    }

    static string Placeholders(int width, int row) =>
        "(" + string.Join(", ", Enumerable.Range(0, width).Select(c => RowStatements.Name(c, row))) + ")";

    public async ValueTask DisposeAsync()
    {
        foreach (var statement in _statements)
        {
            await statement.Command.DisposeAsync();
        }
    }
}
