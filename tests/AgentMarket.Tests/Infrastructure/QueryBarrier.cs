using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// Once armed, holds each query that <c>matches</c>, after it ran, until the given number of them have run or a short
/// wait has passed: concurrent requests all read before any of them writes. Without a lock they all read the same state;
/// with one the first waits alone (the wait opens the barrier for good) and the others read after it committed.
/// </summary>
public sealed class QueryBarrier : DbCommandInterceptor
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    sealed record Armed(Func<DbCommand, bool> Matches, int Parties, TaskCompletionSource All);

    Armed? _armed;
    int _arrived;

    /// <summary>Arms the barrier afresh; not while requests of an earlier arming are still running.</summary>
    public void Arm(Func<DbCommand, bool> matches, int parties)
    {
        Volatile.Write(ref _arrived, 0);
        Volatile.Write(ref _armed, new Armed(matches, parties, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
    }

    /// <summary>Whether the command has <paramref name="id"/> among its parameters, as a uuid or as text (SQLite).</summary>
    public static bool HasParameter(DbCommand command, Guid id) =>
        command.Parameters.Cast<DbParameter>().Any(p => p.Value is Guid value ? value == id : p.Value is string text && Guid.TryParse(text, out var parsed) && parsed == id);

    async Task AfterAsync(DbCommand command)
    {
        if (Volatile.Read(ref _armed) is not { } armed || !armed.Matches(command))
        {
            return;
        }
        if (Interlocked.Increment(ref _arrived) >= armed.Parties)
        {
            armed.All.TrySetResult();
        }
        await Task.WhenAny(armed.All.Task, Task.Delay(Wait));
        armed.All.TrySetResult();
    }

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        await AfterAsync(command);
        return result;
    }

    public override async ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        await AfterAsync(command);
        return result;
    }
}
