namespace AgentMarket.Credits.Ledger;

public enum LedgerStatus
{
    Ok,
    InsufficientCredits,
    IdempotencyConflict,
    ReservationNotFound,
    ReservationResolved,
    ExceedsReservation,
    InvalidAmount,
}

/// <summary>
/// What a ledger operation did. A replay of an idempotency key returns the original operation's values with
/// <see cref="Replayed"/> set; rejected operations leave no trace, so retrying one is evaluated afresh.
/// </summary>
public sealed record LedgerResult(LedgerStatus Status, Guid OperationId = default, bool Replayed = false)
{
    /// <summary>Signed change of the organization's posted balance.</summary>
    public long Amount { get; init; }

    /// <summary>The organization's posted balance after the operation (granted + paid).</summary>
    public long BalanceAfter { get; init; }

    /// <summary>Reserve: how much was reserved. Insufficient credits: what was asked for.</summary>
    public long Required { get; init; }

    /// <summary>
    /// The organization's available credits (balance minus reservations) after the operation — or, when refused for
    /// insufficient credits, what was available. Not returned by replays.
    /// </summary>
    public long Available { get; init; }

    /// <summary>
    /// The transfers the operation made, for figures built from what it moved (a provider's economics) without reading
    /// them back. Empty for rejections and replays: a replay made no transfers.
    /// </summary>
    public IReadOnlyList<MovedCredits> Moved { get; init; } = [];

    public bool Succeeded => Status == LedgerStatus.Ok;

    public static LedgerResult Rejected(LedgerStatus status) => new(status);
}

/// <summary>One transfer of an operation: its kind, the kinds of the accounts it debited and credited, and its amount.</summary>
public readonly record struct MovedCredits(TransferKind Kind, AccountKind From, AccountKind To, long Amount);
