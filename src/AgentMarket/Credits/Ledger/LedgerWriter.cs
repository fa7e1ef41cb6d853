using System.Collections.Concurrent;
using System.Data.Common;
using System.Text;
using AgentMarket.Platform.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AgentMarket.Credits.Ledger;

/// <summary>
/// The only writer of ledger rows. Commands from every request queue here and are applied in batches, each batch in one
/// database transaction (group commit, as TigerBeetle batches): accounts are locked in id order (PostgreSQL
/// <c>FOR UPDATE</c>; SQLite's <c>BEGIN IMMEDIATE</c> takes the one write lock), idempotency keys and reservations are
/// read under those locks, every command is checked and applied in memory, and the transfers, operations and new running
/// sums are written together. Another replica's concurrent write can only make the batch fail on a lock or unique index;
/// the batch is then retried command by command, and replays resolve by key.
/// </summary>
sealed class LedgerWriter(DatabaseConnection database, SqlitePragmas pragmas, TimeProvider clock, ILogger<LedgerWriter> logger)
    : GroupCommit<LedgerCommand, LedgerResult>(MaxBatch, capacity: 20_000, drainOnStop: false, logger)
{
    const int MaxBatch = 128;
    static readonly string[] SqliteAccountUpdateParameters = ["@dpe", "@dpo", "@cpe", "@cpo", "@id"];

    // Account ids never change once created, so each (kind, owner) is looked up once per process.
    readonly ConcurrentDictionary<AccountKey, Guid> _accountIds = new();

    bool IsPostgres => database.Provider == DatabaseProvider.Postgres;

    /// <summary>
    /// Queues a command and waits for its result. Cancelling the wait does not cancel the command, which may still
    /// commit; callers make that safe with idempotency keys (and reservations expire).
    /// </summary>
    public async Task<LedgerResult> SubmitAsync(LedgerCommand command, CancellationToken cancellationToken)
    {
        var result = await EnqueueAsync(command, cancellationToken);
        Admin.Metrics.PlatformMeters.LedgerOperation(command.Kind.ToString(), result.Replayed ? "replayed" : result.Status.ToString());
        return result;
    }

    protected override string Describe(LedgerCommand item) => $"ledger command {item.IdempotencyKey}";

    protected override async Task<LedgerResult[]> WriteAsync(IReadOnlyList<LedgerCommand> commands)
    {
        await EnsureAccountsAsync(commands);
        using var turn = await database.WriterTurnAsync();
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var results = await ApplyWithinAsync(connection, transaction, commands);
        await transaction.CommitAsync();
        return results;
    }

    /// <summary>
    /// Applies <paramref name="commands"/> inside the caller's transaction, which commits or rolls them back with its own
    /// writes: the run journal settles runs in the transaction that records them, so a run is recorded as charged
    /// exactly when its credits moved. Call <see cref="EnsureAccountsAsync"/> for the same commands before the
    /// transaction begins (new accounts are created in a transaction of their own). Starts by locking the accounts, so
    /// the caller's transaction must not have written anything the ledger's own batches lock after them.
    /// </summary>
    /// <param name="before">
    /// The caller's statements not yet sent: this call sends them, ahead of the ledger's reads and in the same round trip
    /// on PostgreSQL.
    /// </param>
    public async Task<LedgerResult[]> ApplyWithinAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<LedgerCommand> commands, StatementBatch? before = null)
    {
        await using var owned = before is null ? new StatementBatch(connection, transaction) : null;
        var state = await LoadAsync(before ?? owned!, commands);
        var results = new LedgerResult[commands.Count];
        for (var i = 0; i < commands.Count; i++)
        {
            var command = commands[i];
            results[i] = state.Existing(command.IdempotencyKey) is { } existing
                ? existing.RequestHash == command.RequestHash()
                    ? new LedgerResult(LedgerStatus.Ok, existing.Id, Replayed: true) { Amount = existing.Amount, BalanceAfter = existing.BalanceAfter ?? 0, Required = existing.Reserved }
                    : LedgerResult.Rejected(LedgerStatus.IdempotencyConflict)
                : command.Apply(state);
        }

        await WriteStateAsync(connection, transaction, state);
        return results;
    }

    /// <summary>Creates the accounts the commands name that do not exist yet, in a transaction of their own.</summary>
    public async Task EnsureAccountsAsync(IReadOnlyList<LedgerCommand> commands)
    {
        var keys = commands.SelectMany(c => c.Accounts()).Distinct().ToList();
        var missing = keys.Where(k => !_accountIds.ContainsKey(k)).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        // Created in their own committed transaction: an empty account is harmless, and the ids can then be cached.
        using var turn = await database.WriterTurnAsync();
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = Command(connection, transaction);
        var sql = new StringBuilder("INSERT INTO ledger_accounts (id, kind, owner_id, debits_pending, debits_posted, credits_pending, credits_posted, must_not_overdraw, created_utc) VALUES ");
        var now = clock.GetUtcNow().UtcDateTime;
        for (var i = 0; i < missing.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@id{i}, @kind{i}, @owner{i}, 0, 0, 0, 0, @overdraw{i}, @created)");
            AddGuid(insert, $"@id{i}", Guid.CreateVersion7(now));
            Add(insert, $"@kind{i}", EnumNames<AccountKind>.ToName(missing[i].Kind));
            AddGuid(insert, $"@owner{i}", missing[i].Owner);
            Add(insert, $"@overdraw{i}", LedgerAccount.IsWallet(missing[i].Kind));
        }
        Add(insert, "@created", now);
        insert.CommandText = sql.Append(" ON CONFLICT (owner_id, kind) DO NOTHING").ToString();
        await insert.ExecuteNonQueryAsync();

        await using var select = Command(connection, transaction);
        select.CommandText = $"SELECT id, kind, owner_id FROM ledger_accounts WHERE {Matches(select, "owner_id", "@o", missing.Select(k => k.Owner).Distinct().ToList())}";
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                _accountIds[new AccountKey(EnumNames<AccountKind>.FromName(reader.GetString(1)), reader.GetGuid(2))] = reader.GetGuid(0);
            }
        }
        await transaction.CommitAsync();
    }

    /// <summary>
    /// Reads what the commands need, with <paramref name="reads"/>' other statements, in one round trip on PostgreSQL:
    /// the accounts, locked first; the operations already stored under the commands' idempotency keys; and the
    /// reservations being resolved, with their pending transfers.
    /// </summary>
    async Task<LedgerBatch> LoadAsync(StatementBatch reads, IReadOnlyList<LedgerCommand> commands)
    {
        var keys = commands.SelectMany(c => c.Accounts()).Distinct().ToList();
        var accounts = new Dictionary<AccountKey, AccountState>(keys.Count);
        var operations = new Dictionary<string, StoredOperation>(StringComparer.Ordinal);
        var reservations = new Dictionary<Guid, ReservationState>();

        var lockAccounts = reads.Add(reader => ReadAccountsAsync(reader, accounts));
        // Locking in id order everywhere rules out deadlocks between replicas.
        lockAccounts.CommandText = $"SELECT id, kind, owner_id, debits_pending, debits_posted, credits_pending, credits_posted, must_not_overdraw FROM ledger_accounts WHERE {Matches(lockAccounts, "id", "@a", keys.Select(k => _accountIds[k]).Order().ToList())} ORDER BY id{(IsPostgres ? " FOR UPDATE" : "")}";

        var stored = reads.Add(reader => ReadOperationsAsync(reader, operations));
        stored.CommandText = $"SELECT idempotency_key, id, request_hash, amount, balance_after, reserved FROM ledger_operations WHERE {Matches(stored, "idempotency_key", "@k", commands.Select(c => c.IdempotencyKey).Distinct().ToList())}";

        var reservationIds = commands.Select(c => c.ReservationId).OfType<Guid>().Distinct().ToList();
        if (reservationIds.Count > 0)
        {
            var headers = reads.Add(reader => ReadReservationsAsync(reader, reservations));
            headers.CommandText = ReservationsQuery(Matches(headers, "id", "@r", reservationIds));
            var pending = reads.Add(reader => ReadPendingTransfersAsync(reader, reservations, accounts));
            pending.CommandText = $"SELECT operation_id, id, debit_account_id, credit_account_id, amount FROM ledger_transfers WHERE kind = 'pending' AND {Matches(pending, "operation_id", "@p", reservationIds)}";
        }
        await reads.ExecuteAsync();
        return new LedgerBatch(clock.GetUtcNow().UtcDateTime, accounts, reservations, operations);
    }

    static async Task ReadAccountsAsync(DbDataReader reader, Dictionary<AccountKey, AccountState> accounts)
    {
        while (await reader.ReadAsync())
        {
            var key = new AccountKey(EnumNames<AccountKind>.FromName(reader.GetString(1)), reader.GetGuid(2));
            accounts[key] = new AccountState(reader.GetGuid(0), key, reader.GetBoolean(7))
            {
                DebitsPending = reader.GetInt64(3),
                DebitsPosted = reader.GetInt64(4),
                CreditsPending = reader.GetInt64(5),
                CreditsPosted = reader.GetInt64(6),
            };
        }
    }

    static async Task ReadOperationsAsync(DbDataReader reader, Dictionary<string, StoredOperation> operations)
    {
        while (await reader.ReadAsync())
        {
            operations[reader.GetString(0)] = new StoredOperation(reader.GetGuid(1), reader.GetString(2), reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetInt64(5));
        }
    }

    /// <summary>
    /// The operations whose ids match <paramref name="idMatch"/>, which the reader keeps when they are reservations.
    /// The kind is checked by the reader rather than in the WHERE clause: with it there, SQLite's planner (which has no
    /// statistics) takes the (kind, resolved_utc, expires_utc) index for a long id list and reads every reservation
    /// ever made, 10 ms a batch after 40,000 runs, instead of looking the ids up by primary key (docs/benchmarks.md,
    /// "Gateway").
    /// </summary>
    internal static string ReservationsQuery(string idMatch) =>
        $"SELECT id, organization_id, reserved, resolved_utc, kind FROM ledger_operations WHERE {idMatch}";

    static async Task ReadReservationsAsync(DbDataReader reader, Dictionary<Guid, ReservationState> reservations)
    {
        while (await reader.ReadAsync())
        {
            if (reader.GetString(4) != EnumNames<OperationKind>.ToName(OperationKind.Reserve))
            {
                continue;
            }
            reservations[reader.GetGuid(0)] = new ReservationState(reader.GetGuid(0), reader.GetGuid(1), reader.GetInt64(2), resolved: !reader.IsDBNull(3));
        }
    }

    static async Task ReadPendingTransfersAsync(DbDataReader reader, Dictionary<Guid, ReservationState> reservations, Dictionary<AccountKey, AccountState> accounts)
    {
        var byId = accounts.Values.ToDictionary(a => a.Id, a => a.Key);
        while (await reader.ReadAsync())
        {
            // Not a reservation this batch read (on PostgreSQL each statement sees the commits made before it starts).
            if (!reservations.TryGetValue(reader.GetGuid(0), out var reservation))
            {
                continue;
            }
            // A reservation of another organization than the command names has accounts this batch did not lock;
            // the command rejects it as not found before looking at its transfers.
            if (!byId.TryGetValue(reader.GetGuid(2), out var debit) || !byId.TryGetValue(reader.GetGuid(3), out var credit))
            {
                continue;
            }
            var transfer = new PendingTransfer(reader.GetGuid(1), debit, credit, reader.GetInt64(4));
            if (debit.Kind == AccountKind.WalletGranted)
            {
                reservation.GrantedPending = transfer;
            }
            else
            {
                reservation.PaidPending = transfer;
            }
        }
    }

    const string OperationColumns = "id, idempotency_key, request_hash, kind, organization_id, provider_id, code, amount, balance_after, description, reference_type, reference_id, reserved, expires_utc, created_utc";
    const string TransferColumns = "id, operation_id, debit_account_id, credit_account_id, amount, kind, pending_id, code, created_utc";

    /// <summary>
    /// Writes the batch's rows and sums, in one round trip on PostgreSQL (<see cref="StatementBatch"/>). The rows take the
    /// shape each database runs fastest: on PostgreSQL an array per column, so the inserts' text is the same for every
    /// batch and PostgreSQL parses and plans them once, and the accounts in one statement; on SQLite, in-process, where a
    /// statement costs microseconds, single-row statements prepared once and re-bound for every row
    /// (<see cref="StatementBatch.AddRows"/>), and an account's primary-key update, which beats UPDATE … FROM that SQLite
    /// may plan as a scan of the accounts table.
    /// </summary>
    async Task WriteStateAsync(DbConnection connection, DbTransaction transaction, LedgerBatch state)
    {
        await using var writes = new StatementBatch(connection, transaction);
        var dirty = state.Accounts.Where(a => a.Dirty).ToList();
        if (IsPostgres)
        {
            AddColumnsOfRows(writes, state, dirty);
        }
        else
        {
            AddRowsOneByOne(writes, state);
        }
        if (state.Resolved.Count > 0)
        {
            var resolve = writes.Add();
            resolve.CommandText = $"UPDATE ledger_operations SET resolved_utc = @now WHERE {Matches(resolve, "id", "@r", state.Resolved.Select(r => r.Id).ToList())}";
            Add(resolve, "@now", state.NowUtc);
        }
        await writes.ExecuteAsync();
        if (!IsPostgres)
        {
            await UpdateSqliteAccountsAsync(connection, transaction, dirty);
        }
    }

    /// <summary>PostgreSQL: each insert one statement of an array per column, and the accounts' sums in one statement.</summary>
    static void AddColumnsOfRows(StatementBatch writes, LedgerBatch state, List<AccountState> dirty)
    {
        var operations = state.NewOperations;
        if (operations.Count > 0)
        {
            var insert = writes.Add();
            insert.CommandText = $"INSERT INTO ledger_operations ({OperationColumns}) SELECT *, @now FROM unnest(@id, @key, @hash, @kind, @organization, @provider, @code, @amount, @balance, @description, @reference_type, @reference_id, @reserved, @expires)";
            AddColumn(insert, "@id", "uuid", operations.Select(o => o.Id));
            AddColumn(insert, "@key", "text", operations.Select(o => o.Command.IdempotencyKey));
            AddColumn(insert, "@hash", "text", operations.Select(o => o.Command.RequestHash()));
            AddColumn(insert, "@kind", "text", operations.Select(o => EnumNames<OperationKind>.ToName(o.Command.Kind)));
            AddColumn(insert, "@organization", "uuid", operations.Select(o => o.Organization));
            AddColumn(insert, "@provider", "uuid", operations.Select(o => o.Provider));
            AddColumn(insert, "@code", "text", operations.Select(o => o.Code));
            AddColumn(insert, "@amount", "bigint", operations.Select(o => o.Amount));
            AddColumn(insert, "@balance", "bigint", operations.Select(o => o.BalanceAfter));
            AddColumn(insert, "@description", "text", operations.Select(o => o.Description));
            AddColumn(insert, "@reference_type", "text", operations.Select(o => o.ReferenceType));
            AddColumn(insert, "@reference_id", "text", operations.Select(o => o.ReferenceId));
            AddColumn(insert, "@reserved", "bigint", operations.Select(o => o.Reserved));
            AddColumn(insert, "@expires", "timestamptz", operations.Select(o => o.ExpiresUtc));
            Add(insert, "@now", state.NowUtc);
        }

        var transfers = state.NewTransfers;
        if (transfers.Count > 0)
        {
            var insert = writes.Add();
            insert.CommandText = $"INSERT INTO ledger_transfers ({TransferColumns}) SELECT *, @now FROM unnest(@id, @operation, @debit, @credit, @amount, @kind, @pending, @code)";
            AddColumn(insert, "@id", "uuid", transfers.Select(t => t.Id));
            AddColumn(insert, "@operation", "uuid", transfers.Select(t => t.OperationId));
            AddColumn(insert, "@debit", "uuid", transfers.Select(t => t.DebitAccountId));
            AddColumn(insert, "@credit", "uuid", transfers.Select(t => t.CreditAccountId));
            AddColumn(insert, "@amount", "bigint", transfers.Select(t => t.Amount));
            AddColumn(insert, "@kind", "text", transfers.Select(t => EnumNames<TransferKind>.ToName(t.Kind)));
            AddColumn(insert, "@pending", "uuid", transfers.Select(t => t.PendingId));
            AddColumn(insert, "@code", "text", transfers.Select(t => t.Code));
            Add(insert, "@now", state.NowUtc);
        }

        if (dirty.Count > 0)
        {
            // One statement for all accounts the batch moved: the sums are absolute values computed under the locks. A
            // VALUES list rather than arrays, so the planner knows how many accounts it joins (see Matches).
            var update = writes.Add();
            var values = new StringBuilder();
            for (var i = 0; i < dirty.Count; i++)
            {
                values.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@id{i}, @dpe{i}, @dpo{i}, @cpe{i}, @cpo{i})");
                Add(update, $"@id{i}", dirty[i].Id);
                Add(update, $"@dpe{i}", dirty[i].DebitsPending);
                Add(update, $"@dpo{i}", dirty[i].DebitsPosted);
                Add(update, $"@cpe{i}", dirty[i].CreditsPending);
                Add(update, $"@cpo{i}", dirty[i].CreditsPosted);
            }
            update.CommandText = $"UPDATE ledger_accounts AS a SET debits_pending = v.dpe, debits_posted = v.dpo, credits_pending = v.cpe, credits_posted = v.cpo FROM (VALUES {values}) AS v(id, dpe, dpo, cpe, cpo) WHERE a.id = v.id";
        }
    }

    /// <summary>SQLite: each insert one single-row statement, prepared once and re-bound for every row.</summary>
    void AddRowsOneByOne(StatementBatch writes, LedgerBatch state)
    {
        writes.AddRows($"INSERT INTO ledger_operations ({OperationColumns}) VALUES ", "", 15, state.NewOperations, (command, o, r) =>
        {
            AddGuid(command, RowStatements.Name(0, r), o.Id);
            Add(command, RowStatements.Name(1, r), o.Command.IdempotencyKey);
            Add(command, RowStatements.Name(2, r), o.Command.RequestHash());
            Add(command, RowStatements.Name(3, r), EnumNames<OperationKind>.ToName(o.Command.Kind));
            AddGuid(command, RowStatements.Name(4, r), o.Organization);
            AddGuid(command, RowStatements.Name(5, r), o.Provider);
            Add(command, RowStatements.Name(6, r), o.Code);
            Add(command, RowStatements.Name(7, r), o.Amount);
            Add(command, RowStatements.Name(8, r), o.BalanceAfter);
            Add(command, RowStatements.Name(9, r), o.Description);
            Add(command, RowStatements.Name(10, r), o.ReferenceType);
            Add(command, RowStatements.Name(11, r), o.ReferenceId);
            Add(command, RowStatements.Name(12, r), o.Reserved);
            Add(command, RowStatements.Name(13, r), o.ExpiresUtc);
            Add(command, RowStatements.Name(14, r), state.NowUtc);
        });

        writes.AddRows($"INSERT INTO ledger_transfers ({TransferColumns}) VALUES ", "", 9, state.NewTransfers, (command, t, r) =>
        {
            AddGuid(command, RowStatements.Name(0, r), t.Id);
            AddGuid(command, RowStatements.Name(1, r), t.OperationId);
            AddGuid(command, RowStatements.Name(2, r), t.DebitAccountId);
            AddGuid(command, RowStatements.Name(3, r), t.CreditAccountId);
            Add(command, RowStatements.Name(4, r), t.Amount);
            Add(command, RowStatements.Name(5, r), EnumNames<TransferKind>.ToName(t.Kind));
            AddGuid(command, RowStatements.Name(6, r), t.PendingId);
            Add(command, RowStatements.Name(7, r), t.Code);
            Add(command, RowStatements.Name(8, r), state.NowUtc);
        });
    }

    /// <summary>SQLite: one prepared statement re-executed per account, a primary-key lookup each.</summary>
    static async Task UpdateSqliteAccountsAsync(DbConnection connection, DbTransaction transaction, List<AccountState> dirty)
    {
        if (dirty.Count == 0)
        {
            return;
        }
        await using var update = Command(connection, transaction);
        update.CommandText = "UPDATE ledger_accounts SET debits_pending = @dpe, debits_posted = @dpo, credits_pending = @cpe, credits_posted = @cpo WHERE id = @id";
        var parameters = SqliteAccountUpdateParameters.Select(name =>
        {
            var parameter = update.CreateParameter();
            parameter.ParameterName = name;
            update.Parameters.Add(parameter);
            return parameter;
        }).ToArray();
        foreach (var account in dirty)
        {
            parameters[0].Value = account.DebitsPending;
            parameters[1].Value = account.DebitsPosted;
            parameters[2].Value = account.CreditsPending;
            parameters[3].Value = account.CreditsPosted;
            parameters[4].Value = account.Id.ToString().ToUpperInvariant();
            await update.ExecuteNonQueryAsync();
        }
    }

    async Task<DbConnection> OpenAsync()
    {
        DbConnection connection = IsPostgres ? new NpgsqlConnection(database.ConnectionString) : new SqliteConnection(database.ConnectionString);
        await connection.OpenAsync();
        if (!IsPostgres)
        {
            await pragmas.ApplyAsync(connection, CancellationToken.None);
        }
        return connection;
    }

    static DbCommand Command(DbConnection connection, DbTransaction transaction)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// A condition that <paramref name="column"/> is one of <paramref name="values"/>, as a list of parameters. Not
    /// <c>= ANY(@array)</c> on PostgreSQL: a prepared statement's generic plan cannot see how long the array is, and
    /// chose sequential scans of the operations table, planned while it was nearly empty, that grew slower with every
    /// run (docs/benchmarks.md, "Gateway"); with a list the planner knows it is looking up that many keys.
    /// </summary>
    string Matches<T>(DbCommand command, string column, string name, IReadOnlyList<T> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            names[i] = $"{name}{i}";
            if (values[i] is Guid guid)
            {
                AddGuid(command, names[i], guid);
            }
            else
            {
                Add(command, names[i], values[i]);
            }
        }
        return $"{column} IN ({(names.Length == 0 ? "NULL" : string.Join(", ", names))})";
    }

    // EF Core stores Guids in SQLite as upper-case text; ADO.NET would otherwise bind them as blobs.
    void AddGuid(DbCommand command, string name, Guid? value) =>
        Add(command, name, value is null ? null : IsPostgres ? value.Value : value.Value.ToString().ToUpperInvariant());

    /// <summary>
    /// One column of a batch's rows as an array parameter, typed by the column rather than by its values: Npgsql takes
    /// an untyped array's type from its first element, and a null there would make a timestamp without time zone.
    /// </summary>
    static void AddColumn<T>(DbCommand command, string name, string type, IEnumerable<T> values) =>
        command.Parameters.Add(new NpgsqlParameter(name, values.ToArray()) { DataTypeName = type + "[]" });

    static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
