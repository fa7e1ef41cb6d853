using System.Data.Common;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Platform;

/// <summary>
/// Statements sent together run in order, each reader gets its own statement's rows, and the batch commits or rolls back
/// with its transaction: on PostgreSQL one round trip, on SQLite one statement after another.
/// </summary>
public class StatementBatchTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task WritesAndReadsInOneBatch_RunInOrder_AndEachReaderGetsItsOwnStatementsRows()
    {
        var name = $"batch-{Guid.NewGuid():N}"[..30];
        var (first, second, rowsAdded) = await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            await db.Database.OpenConnectionAsync();
            await using var transaction = await db.Database.BeginTransactionAsync();
            long? afterInsert = null, afterUpdate = null, added = null;
            await using (var statements = new StatementBatch(db.Database.GetDbConnection(), transaction.GetDbTransaction()))
            {
                Parameters(statements.Add(), "INSERT INTO sequences (name, value) VALUES (@name, 41)", name);
                Parameters(statements.Add(async reader => afterInsert = await SingleAsync(reader)), "SELECT value FROM sequences WHERE name = @name", name);
                Parameters(statements.Add(), "UPDATE sequences SET value = value + 1 WHERE name = @name", name);
                Parameters(statements.Add(async reader => afterUpdate = await SingleAsync(reader)), "SELECT value FROM sequences WHERE name = @name", name);
                statements.AddRows("INSERT INTO sequences (name, value) VALUES ", "", 2, [1, 2, 3], (command, n, r) =>
                {
                    Parameter(command, RowStatements.Name(0, r), $"{name}-{n}");
                    Parameter(command, RowStatements.Name(1, r), (long)n);
                });
                Parameters(statements.Add(async reader => added = await SingleAsync(reader)), "SELECT CAST(sum(value) AS bigint) FROM sequences WHERE name LIKE @name", name + "-%");
                await statements.ExecuteAsync();
            }
            await transaction.CommitAsync();
            return (afterInsert, afterUpdate, added);
        });

        Assert.Equal(41, first);
        Assert.Equal(42, second);
        Assert.Equal(1 + 2 + 3, rowsAdded);
    }

    [Fact]
    public async Task ABatchIsSentOnce_WithTheValuesItsRowsHadWhenTheyWereAdded()
    {
        var name = $"batch-{Guid.NewGuid():N}"[..30];
        var row = new Counter { Value = 1 };
        var stored = await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            await db.Database.OpenConnectionAsync();
            await using (var statements = new StatementBatch(db.Database.GetDbConnection(), null))
            {
                statements.AddRows("INSERT INTO sequences (name, value) VALUES ", "", 2, [row], (command, counter, r) =>
                {
                    Parameter(command, RowStatements.Name(0, r), name);
                    Parameter(command, RowStatements.Name(1, r), counter.Value);
                });
                row.Value = 99;
                await statements.ExecuteAsync();
                await statements.ExecuteAsync(); // a second insert of the same name would fail on its primary key
                Assert.Throws<InvalidOperationException>(() => statements.Add());
            }
            return await db.Database.SqlQuery<long>($"SELECT value AS \"Value\" FROM sequences WHERE name = {name}").ToListAsync();
        });

        Assert.Equal([1L], stored);
    }

    [Fact]
    public async Task AFailingStatement_FailsTheBatch_AndItsTransactionKeepsNothing()
    {
        var name = $"batch-{Guid.NewGuid():N}"[..30];
        await app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            await db.Database.OpenConnectionAsync();
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await using var statements = new StatementBatch(db.Database.GetDbConnection(), transaction.GetDbTransaction());
                Parameters(statements.Add(), "INSERT INTO sequences (name, value) VALUES (@name, 1)", name);
                Parameters(statements.Add(), "INSERT INTO sequences (name, value) VALUES (@name, 2)", name); // the same key
                await Assert.ThrowsAnyAsync<DbException>(statements.ExecuteAsync);
            }
            Assert.False(await db.Database.SqlQuery<long>($"SELECT value AS \"Value\" FROM sequences WHERE name = {name}").AnyAsync());
            return true;
        });
    }

    sealed class Counter
    {
        public long Value { get; set; }
    }

    static void Parameters(DbCommand command, string sql, string name)
    {
        command.CommandText = sql;
        Parameter(command, "@name", name);
    }

    static void Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    static async Task<long?> SingleAsync(DbDataReader reader)
    {
        Assert.True(await reader.ReadAsync());
        var value = reader.GetInt64(0);
        Assert.False(await reader.ReadAsync());
        return value;
    }
}
