namespace AgentMarket.Credits.Ledger;

/// <summary>An account's running sums as the batch changes them.</summary>
sealed class AccountState(Guid id, AccountKey key, bool mustNotOverdraw)
{
    public Guid Id { get; } = id;
    public AccountKey Key { get; } = key;
    public bool MustNotOverdraw { get; } = mustNotOverdraw;
    public long DebitsPending { get; set; }
    public long DebitsPosted { get; set; }
    public long CreditsPending { get; set; }
    public long CreditsPosted { get; set; }
    public bool Dirty { get; set; }

    /// <summary>What a new debit may take: credits posted minus debits posted and pending.</summary>
    public long Available => CreditsPosted - DebitsPosted - DebitsPending;

    public long Posted => CreditsPosted - DebitsPosted;
}

sealed record PendingTransfer(Guid Id, AccountKey Debit, AccountKey Credit, long Amount);

/// <summary>A reservation with its (at most two) pending transfers: one from granted credits, one from paid.</summary>
sealed class ReservationState(Guid id, Guid organization, long amount, bool resolved)
{
    public Guid Id { get; } = id;
    public Guid Organization { get; } = organization;
    public long Amount { get; } = amount;
    public bool Resolved { get; set; } = resolved;
    public PendingTransfer? GrantedPending { get; set; }
    public PendingTransfer? PaidPending { get; set; }
}

sealed class OperationDraft(Guid id, LedgerCommand command)
{
    public Guid Id { get; } = id;
    public LedgerCommand Command { get; } = command;
    public Guid? Organization { get; init; }
    public Guid? Provider { get; init; }
    public required string Code { get; init; }
    public string? Description { get; init; }
    public string? ReferenceType { get; init; }
    public string? ReferenceId { get; init; }
    public long Reserved { get; init; }
    public DateTime? ExpiresUtc { get; init; }
    public long Amount { get; set; }
    public long? BalanceAfter { get; set; }

    /// <summary>The operation's transfers, as its result reports them.</summary>
    public List<MovedCredits> Moved { get; } = [];
}

sealed record TransferDraft(Guid Id, Guid OperationId, Guid DebitAccountId, Guid CreditAccountId, long Amount, TransferKind Kind, Guid? PendingId, string Code);

/// <summary>An operation already in the database, for replays.</summary>
sealed record StoredOperation(Guid Id, string RequestHash, long Amount, long? BalanceAfter, long Reserved);

/// <summary>
/// The in-memory state of one batch of ledger commands applied in one database transaction: the locked accounts'
/// sums, the reservations being resolved, and the rows to write. Commands check everything before they change
/// anything, so a rejected command leaves the batch untouched.
/// </summary>
sealed class LedgerBatch(DateTime nowUtc, Dictionary<AccountKey, AccountState> accounts, Dictionary<Guid, ReservationState> reservations, Dictionary<string, StoredOperation> operations)
{
    public DateTime NowUtc { get; } = nowUtc;
    public List<OperationDraft> NewOperations { get; } = [];
    public List<TransferDraft> NewTransfers { get; } = [];
    public List<ReservationState> Resolved { get; } = [];
    public IEnumerable<AccountState> Accounts => accounts.Values;

    public AccountState Account(AccountKey key) => accounts[key];

    public ReservationState? Reservation(Guid id) => reservations.GetValueOrDefault(id);

    public StoredOperation? Existing(string idempotencyKey) => operations.GetValueOrDefault(idempotencyKey);

    public OperationDraft BeginOperation(LedgerCommand command, Guid? organization, Guid? provider, string code, string? description,
        string? referenceType = null, string? referenceId = null, long reserved = 0, DateTime? expiresUtc = null) =>
        new(Guid.CreateVersion7(NowUtc), command)
        {
            Organization = organization,
            Provider = provider,
            Code = code,
            Description = description,
            ReferenceType = referenceType,
            ReferenceId = referenceId,
            Reserved = reserved,
            ExpiresUtc = expiresUtc,
        };

    public void Post(OperationDraft operation, AccountKey debitKey, AccountKey creditKey, long amount, string code)
    {
        var (debit, credit) = Debit(debitKey, creditKey, amount);
        debit.DebitsPosted += amount;
        credit.CreditsPosted += amount;
        Add(operation, new(Guid.CreateVersion7(NowUtc), operation.Id, debit.Id, credit.Id, amount, TransferKind.Posted, null, code), debit, credit);
    }

    public void Pending(OperationDraft operation, AccountKey debitKey, AccountKey creditKey, long amount)
    {
        var (debit, credit) = Debit(debitKey, creditKey, amount);
        debit.DebitsPending += amount;
        credit.CreditsPending += amount;
        var transfer = new TransferDraft(Guid.CreateVersion7(NowUtc), operation.Id, debit.Id, credit.Id, amount, TransferKind.Pending, null, "reserve");
        Add(operation, transfer, debit, credit);
        // A settle later in the same batch must find this reservation.
        if (!reservations.TryGetValue(operation.Id, out var reservation))
        {
            reservation = new ReservationState(operation.Id, operation.Organization!.Value, operation.Reserved, resolved: false);
            reservations[operation.Id] = reservation;
        }
        var pending = new PendingTransfer(transfer.Id, debitKey, creditKey, amount);
        if (debitKey.Kind == AccountKind.WalletGranted)
        {
            reservation.GrantedPending = pending;
        }
        else
        {
            reservation.PaidPending = pending;
        }
    }

    /// <summary>Posts <paramref name="post"/> of a pending transfer (≤ its amount; the rest returns), or voids it when 0.</summary>
    public void Resolve(OperationDraft operation, PendingTransfer? pending, long post)
    {
        if (pending is null)
        {
            return;
        }
        if (post < 0 || post > pending.Amount)
        {
            throw new InvalidOperationException("A pending transfer can post at most its own amount.");
        }
        var debit = accounts[pending.Debit];
        var credit = accounts[pending.Credit];
        debit.DebitsPending -= pending.Amount;
        credit.CreditsPending -= pending.Amount;
        debit.Dirty = credit.Dirty = true;
        if (post > 0)
        {
            debit.DebitsPosted += post;
            credit.CreditsPosted += post;
            Add(operation, new(Guid.CreateVersion7(NowUtc), operation.Id, debit.Id, credit.Id, post, TransferKind.PostPending, pending.Id, "spend"), debit, credit);
        }
        else
        {
            Add(operation, new(Guid.CreateVersion7(NowUtc), operation.Id, debit.Id, credit.Id, pending.Amount, TransferKind.VoidPending, pending.Id, "release"), debit, credit);
        }
    }

    void Add(OperationDraft operation, TransferDraft transfer, AccountState debit, AccountState credit)
    {
        NewTransfers.Add(transfer);
        operation.Moved.Add(new MovedCredits(transfer.Kind, debit.Key.Kind, credit.Key.Kind, transfer.Amount));
    }

    public void MarkResolved(ReservationState reservation)
    {
        reservation.Resolved = true;
        Resolved.Add(reservation);
    }

    public LedgerResult Complete(OperationDraft operation, long amount)
    {
        operation.Amount = amount;
        long available = 0;
        if (operation.Organization is { } organization && accounts.TryGetValue(new(AccountKind.WalletGranted, organization), out var granted))
        {
            var paid = accounts[new(AccountKind.WalletPaid, organization)];
            operation.BalanceAfter = granted.Posted + paid.Posted;
            available = granted.Available + paid.Available;
        }
        NewOperations.Add(operation);
        operations[operation.Command.IdempotencyKey] = new StoredOperation(operation.Id, operation.Command.RequestHash(), amount, operation.BalanceAfter, operation.Reserved);
        return new LedgerResult(LedgerStatus.Ok, operation.Id)
        {
            Amount = amount,
            BalanceAfter = operation.BalanceAfter ?? 0,
            Required = operation.Reserved,
            Available = available,
            Moved = operation.Moved,
        };
    }

    (AccountState Debit, AccountState Credit) Debit(AccountKey debitKey, AccountKey creditKey, long amount)
    {
        if (amount <= 0)
        {
            throw new InvalidOperationException("Transfers move a positive amount.");
        }
        var debit = accounts[debitKey];
        var credit = accounts[creditKey];
        // Commands check balances before they change anything; reaching this is a bug, and the batch must not commit.
        if (debit.MustNotOverdraw && amount > debit.Available)
        {
            throw new InvalidOperationException($"Overdraft of a {debit.Key.Kind} account refused.");
        }
        debit.Dirty = credit.Dirty = true;
        return (debit, credit);
    }
}
