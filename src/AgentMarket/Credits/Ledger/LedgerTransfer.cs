using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Ledger;

public enum TransferKind
{
    /// <summary>Moves credits at once.</summary>
    Posted,

    /// <summary>A reservation: counted as pending until a <see cref="PostPending"/> or <see cref="VoidPending"/> resolves it.</summary>
    Pending,

    /// <summary>Posts up to the pending amount; the rest returns to the debit account.</summary>
    PostPending,

    /// <summary>Returns the whole pending amount.</summary>
    VoidPending,
}

/// <summary>
/// An immutable movement of credits between two accounts; never updated or deleted. Every transfer belongs to one
/// <see cref="LedgerOperation"/>, which carries the idempotency key for all the transfers one operation makes.
/// </summary>
public sealed class LedgerTransfer
{
    public Guid Id { get; init; }
    public Guid OperationId { get; init; }
    public Guid DebitAccountId { get; init; }
    public Guid CreditAccountId { get; init; }

    /// <summary>Always positive.</summary>
    public long Amount { get; init; }
    public TransferKind Kind { get; init; }

    /// <summary>For post/void: the pending transfer resolved. Unique, so a pending transfer resolves at most once.</summary>
    public Guid? PendingId { get; init; }
    public required string Code { get; init; }
    public DateTime CreatedUtc { get; init; }
}

sealed class LedgerTransferConfiguration : IEntityTypeConfiguration<LedgerTransfer>
{
    public void Configure(EntityTypeBuilder<LedgerTransfer> e)
    {
        e.ToTable("ledger_transfers", t =>
        {
            t.HasCheckConstraint("ck_ledger_transfers_amount", "amount > 0");
            t.HasCheckConstraint("ck_ledger_transfers_accounts", "debit_account_id <> credit_account_id");
        });
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.Code).HasMaxLength(20);
        e.HasIndex(x => x.PendingId).IsUnique();
        e.HasIndex(x => x.OperationId);
        e.HasIndex(x => x.DebitAccountId);
        e.HasIndex(x => x.CreditAccountId);
        e.HasOne<LedgerAccount>().WithMany().HasForeignKey(x => x.DebitAccountId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<LedgerAccount>().WithMany().HasForeignKey(x => x.CreditAccountId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<LedgerOperation>().WithMany().HasForeignKey(x => x.OperationId).OnDelete(DeleteBehavior.Restrict);
    }
}
