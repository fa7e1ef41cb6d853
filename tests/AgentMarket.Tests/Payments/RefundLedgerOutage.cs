using System.Data.Common;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentMarket.Tests.Payments;

/// <summary>
/// Makes the ledger fail to book any refund of one payment, as when the process stops after a refund is recorded and
/// before its credits are taken back: a trigger on <c>ledger_operations</c> for that payment's refund keys, dropped on
/// dispose. Other payments' ledger commands in the same batch are written one by one and go through.
/// </summary>
sealed class RefundLedgerOutage : IAsyncDisposable
{
    readonly TestDatabase _database;
    readonly string _name;

    RefundLedgerOutage(TestDatabase database, Guid payment)
    {
        _database = database;
        _name = $"fail_refunds_{payment:N}";
    }

    public static async Task<RefundLedgerOutage> StartAsync(AgentMarketApp app, Guid payment)
    {
        var outage = new RefundLedgerOutage(app.Database, payment);
        var keys = $"refund:{payment}:%";
        await outage.ExecuteAsync(app.Database.Provider == "Postgres"
            ? $"""
               CREATE FUNCTION {outage._name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'simulated crash before the refund''s ledger step'; END $$;
               CREATE TRIGGER {outage._name} BEFORE INSERT ON ledger_operations FOR EACH ROW WHEN (NEW.idempotency_key LIKE '{keys}') EXECUTE FUNCTION {outage._name}();
               """
            : $"""
               CREATE TRIGGER {outage._name} BEFORE INSERT ON ledger_operations WHEN NEW.idempotency_key LIKE '{keys}'
               BEGIN SELECT RAISE(ABORT, 'simulated crash before the refund''s ledger step'); END;
               """);
        return outage;
    }

    public async ValueTask DisposeAsync() => await ExecuteAsync(_database.Provider == "Postgres"
        ? $"DROP TRIGGER {_name} ON ledger_operations; DROP FUNCTION {_name}();"
        : $"DROP TRIGGER {_name};");

    async Task ExecuteAsync(string sql)
    {
        await using DbConnection connection = _database.Provider == "Postgres" ? new NpgsqlConnection(_database.ConnectionString) : new SqliteConnection(_database.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
