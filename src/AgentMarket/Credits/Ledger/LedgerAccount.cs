using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Ledger;

public enum AccountKind
{
    /// <summary>An organization's free credits (starter, daily, monthly); spent first.</summary>
    WalletGranted,

    /// <summary>An organization's purchased credits.</summary>
    WalletPaid,

    /// <summary>What an organization owes after a refund of credits it had already spent; purchases repay it first.</summary>
    WalletDebt,

    /// <summary>Where an organization's reservations wait between reserve and settle.</summary>
    RunHolding,

    /// <summary>A provider's earnings, paid out later.</summary>
    ProviderEarnings,

    PlatformFees,

    /// <summary>Pays providers for runs paid with granted credits, and anonymous trials; goes negative by design.</summary>
    PlatformPromotions,

    /// <summary>The source of every granted credit; its negative balance is what the platform has given away.</summary>
    Grants,

    /// <summary>Clearing for money in: purchases are credited from here, refunds return here.</summary>
    Payments,

    /// <summary>Money out to providers.</summary>
    Payouts,

    /// <summary>The counterpart of an operator's manual corrections.</summary>
    Adjustments,
}

/// <summary>
/// One ledger account with TigerBeetle's four running sums, updated only by <see cref="LedgerWriter"/> in the same
/// transaction as the transfers that move them. Amounts are whole credits.
/// </summary>
public sealed class LedgerAccount
{
    /// <summary>Owner of the platform-wide accounts (fees, grants, payments...).</summary>
    public static readonly Guid PlatformOwner = Guid.Empty;

    public Guid Id { get; init; }
    public AccountKind Kind { get; init; }

    /// <summary>The organization or provider; <see cref="PlatformOwner"/> for platform accounts.</summary>
    public Guid OwnerId { get; init; }
    public long DebitsPending { get; init; }
    public long DebitsPosted { get; init; }
    public long CreditsPending { get; init; }
    public long CreditsPosted { get; init; }

    /// <summary>Wallets: a debit may never exceed credits posted minus debits posted and pending.</summary>
    public bool MustNotOverdraw { get; init; }
    public DateTime CreatedUtc { get; init; }

    public static bool IsWallet(AccountKind kind) => kind is AccountKind.WalletGranted or AccountKind.WalletPaid;
}

sealed class LedgerAccountConfiguration : IEntityTypeConfiguration<LedgerAccount>
{
    public void Configure(EntityTypeBuilder<LedgerAccount> e)
    {
        e.ToTable("ledger_accounts");
        e.Property(x => x.Id).ValueGeneratedNever();
        e.HasIndex(x => new { x.OwnerId, x.Kind }).IsUnique();
    }
}
