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
    public async Task<LedgerResult[]> ApplyWithinAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<LedgerCommand> commands)
    {
        var keys = commands.SelectMany(c => c.Accounts()).Distinct().ToList();
        var accounts = await LoadAccountsAsync(connection, transaction, keys);
        var operations = await LoadOperationsAsync(connection, transaction, commands.Select(c => c.IdempotencyKey).Distinct().ToList());
        var reservationIds = commands.Select(c => c.ReservationId).OfType<Guid>().Distinct().ToList();
        var reservations = await LoadReservationsAsync(connection, transaction, reservationIds, accounts);

        var state = new LedgerBatch(clock.GetUtcNow().UtcDateTime, accounts, reservations, operations);
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
        select.CommandText = $"SELECT id, kind, owner_id FROM ledger_accounts WHERE owner_id IN ({InList(select, "@o", missing.Select(k => k.Owner).Distinct().ToList())})";
        await using (var reader = await select.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                _accountIds[new AccountKey(EnumNames<AccountKind>.FromName(reader.GetString(1)), reader.GetGuid(2))] = reader.GetGuid(0);
            }
        }
        await transaction.CommitAsync();
    }

    async Task<Dictionary<AccountKey, AccountState>> LoadAccountsAsync(DbConnection connection, DbTransaction transaction, List<AccountKey> keys)
    {
        var ids = keys.Select(k => _accountIds[k]).Order().ToList();
        await using var command = Command(connection, transaction);
        // Locking in id order everywhere rules out deadlocks between replicas.
        command.CommandText = $"SELECT id, kind, owner_id, debits_pending, debits_posted, credits_pending, credits_posted, must_not_overdraw FROM ledger_accounts WHERE id IN ({InList(command, "@a", ids)}) ORDER BY id{(IsPostgres ? " FOR UPDATE" : "")}";
        var accounts = new Dictionary<AccountKey, AccountState>(keys.Count);
        await using var reader = await command.ExecuteReaderAsync();
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
        return accounts;
    }

    async Task<Dictionary<string, StoredOperation>> LoadOperationsAsync(DbConnection connection, DbTransaction transaction, List<string> keys)
    {
        await using var command = Command(connection, transaction);
        command.CommandText = $"SELECT idempotency_key, id, request_hash, amount, balance_after, reserved FROM ledger_operations WHERE idempotency_key IN ({InList(command, "@k", keys)})";
        var operations = new Dictionary<string, StoredOperation>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            operations[reader.GetString(0)] = new StoredOperation(reader.GetGuid(1), reader.GetString(2), reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4), reader.GetInt64(5));
        }
        return operations;
    }

    /// <summary>
    /// The operations with the listed ids, which the caller keeps when they are reservations. The kind is checked by the
    /// caller rather than in the WHERE clause: with it there, SQLite's planner (which has no statistics) takes the
    /// (kind, resolved_utc, expires_utc) index for a long id list and reads every reservation ever made, 10 ms a batch
    /// after 40,000 runs, instead of looking the ids up by primary key (docs/benchmarks.md, "Gateway").
    /// </summary>
    internal static string ReservationsQuery(string idList) =>
        $"SELECT id, organization_id, reserved, resolved_utc, kind FROM ledger_operations WHERE id IN ({idList})";

    async Task<Dictionary<Guid, ReservationState>> LoadReservationsAsync(DbConnection connection, DbTransaction transaction, List<Guid> ids, Dictionary<AccountKey, AccountState> accounts)
    {
        var reservations = new Dictionary<Guid, ReservationState>();
        if (ids.Count == 0)
        {
            return reservations;
        }
        await using var header = Command(connection, transaction);
        header.CommandText = ReservationsQuery(InList(header, "@r", ids));
        await using (var reader = await header.ExecuteReaderAsync())
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
        var byId = accounts.Values.ToDictionary(a => a.Id, a => a.Key);
        await using var pending = Command(connection, transaction);
        pending.CommandText = $"SELECT operation_id, id, debit_account_id, credit_account_id, amount FROM ledger_transfers WHERE kind = 'pending' AND operation_id IN ({InList(pending, "@p", ids)})";
        await using (var reader = await pending.ExecuteReaderAsync())
        {
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
        return reservations;
    }

    async Task WriteStateAsync(DbConnection connection, DbTransaction transaction, LedgerBatch state)
    {
        await RowStatements.ExecuteAsync(connection, transaction,
            "INSERT INTO ledger_operations (id, idempotency_key, request_hash, kind, organization_id, provider_id, code, amount, balance_after, description, reference_type, reference_id, reserved, expires_utc, created_utc) VALUES ",
            "", 15, state.NewOperations, (command, o, r) =>
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

        await RowStatements.ExecuteAsync(connection, transaction,
            "INSERT INTO ledger_transfers (id, operation_id, debit_account_id, credit_account_id, amount, kind, pending_id, code, created_utc) VALUES ",
            "", 9, state.NewTransfers, (command, t, r) =>
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

        var dirty = state.Accounts.Where(a => a.Dirty).ToList();
        if (dirty.Count > 0 && IsPostgres)
        {
            // One statement for all accounts the batch moved: the sums are absolute values computed under the locks.
            await using var update = Command(connection, transaction);
            var values = new StringBuilder();
            for (var i = 0; i < dirty.Count; i++)
            {
                values.Append(i == 0 ? "" : ", ").Append(System.Globalization.CultureInfo.InvariantCulture, $"(@id{i}, @dpe{i}, @dpo{i}, @cpe{i}, @cpo{i})");
                AddGuid(update, $"@id{i}", dirty[i].Id);
                Add(update, $"@dpe{i}", dirty[i].DebitsPending);
                Add(update, $"@dpo{i}", dirty[i].DebitsPosted);
                Add(update, $"@cpe{i}", dirty[i].CreditsPending);
                Add(update, $"@cpo{i}", dirty[i].CreditsPosted);
            }
            update.CommandText = $"UPDATE ledger_accounts AS a SET debits_pending = v.dpe, debits_posted = v.dpo, credits_pending = v.cpe, credits_posted = v.cpo FROM (VALUES {values}) AS v(id, dpe, dpo, cpe, cpo) WHERE a.id = v.id";
            await update.ExecuteNonQueryAsync();
        }
        else if (dirty.Count > 0)
        {
            // SQLite runs in-process: one prepared statement re-executed per account costs microseconds, and its
            // primary-key lookup beats UPDATE … FROM, which SQLite may plan as a scan of the accounts table.
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

        if (state.Resolved.Count > 0)
        {
            await using var resolve = Command(connection, transaction);
            resolve.CommandText = $"UPDATE ledger_operations SET resolved_utc = @now WHERE id IN ({InList(resolve, "@r", state.Resolved.Select(r => r.Id).ToList())})";
            Add(resolve, "@now", state.NowUtc);
            await resolve.ExecuteNonQueryAsync();
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

    string InList<T>(DbCommand command, string prefix, IReadOnlyList<T> values)
    {
        var names = new string[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            names[i] = $"{prefix}{i}";
            if (values[i] is Guid guid)
            {
                AddGuid(command, names[i], guid);
            }
            else
            {
                Add(command, names[i], values[i]);
            }
        }
        return names.Length == 0 ? "NULL" : string.Join(", ", names);
    }

    // EF Core stores Guids in SQLite as upper-case text; ADO.NET would otherwise bind them as blobs.
    void AddGuid(DbCommand command, string name, Guid? value) =>
        Add(command, name, value is null ? null : IsPostgres ? value.Value : value.Value.ToString().ToUpperInvariant());

    static void Add(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
