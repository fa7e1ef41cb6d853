using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Ledger;

public enum OperationKind
{
    Grant,
    Purchase,
    Reserve,
    Settle,
    Void,
    Refund,
    Adjustment,
    Payout,
    Trial,
    PayoutReversal,
    GrantRevocation,
    Charge,
}

/// <summary>
/// One ledger operation: the transfers one idempotency key made, in one database transaction, with what a replay of the
/// key must return. The organization's transaction history is a view of these rows.
/// </summary>
public sealed class LedgerOperation
{
    public Guid Id { get; init; }

    /// <summary>Chosen by the caller before the first attempt (<c>grant:daily:{org}:{date}</c>, <c>run:{id}:reserve</c>...). Unique.</summary>
    public required string IdempotencyKey { get; init; }

    /// <summary>A digest of the operation's parameters: the same key with other parameters is a conflict, not a replay.</summary>
    public required string RequestHash { get; init; }
    public OperationKind Kind { get; init; }
    public Guid? OrganizationId { get; init; }
    public Guid? ProviderId { get; init; }

    /// <summary>The history type shown to users: purchase, starter, daily, monthly, spend, refund, payout, adjustment.</summary>
    public required string Code { get; init; }

    /// <summary>Signed change of the organization's posted balance (granted + paid); 0 for reservations.</summary>
    public long Amount { get; init; }

    /// <summary>The organization's posted balance after this operation.</summary>
    public long? BalanceAfter { get; init; }
    public string? Description { get; init; }
    public string? ReferenceType { get; init; }
    public string? ReferenceId { get; init; }

    /// <summary>Reservations only: the amount reserved.</summary>
    public long Reserved { get; init; }

    /// <summary>Reservations only: when the expiry job voids it if nothing resolved it.</summary>
    public DateTime? ExpiresUtc { get; init; }

    /// <summary>Reservations only: set in the transaction that settles or voids it (an index for the expiry job).</summary>
    public DateTime? ResolvedUtc { get; init; }
    public DateTime CreatedUtc { get; init; }
}

sealed class LedgerOperationConfiguration : IEntityTypeConfiguration<LedgerOperation>
{
    public void Configure(EntityTypeBuilder<LedgerOperation> e)
    {
        e.ToTable("ledger_operations");
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.IdempotencyKey).HasMaxLength(200);
        e.Property(x => x.RequestHash).HasMaxLength(64);
        e.Property(x => x.Code).HasMaxLength(20);
        e.Property(x => x.Description).HasMaxLength(300);
        e.Property(x => x.ReferenceType).HasMaxLength(40);
        e.Property(x => x.ReferenceId).HasMaxLength(100);
        e.HasIndex(x => x.IdempotencyKey).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
        e.HasIndex(x => new { x.Kind, x.ResolvedUtc, x.ExpiresUtc });
    }
}
