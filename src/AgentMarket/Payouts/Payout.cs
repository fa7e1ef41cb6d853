using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payouts;

public enum PayoutMethod
{
    /// <summary>An operator pays by bank transfer (or however agreed) and marks the payout paid with a reference.</summary>
    Manual,

    /// <summary>A Stripe transfer to the provider's Express connected account.</summary>
    StripeConnect,
}

public enum PayoutStatus
{
    /// <summary>Claimed by a payout run; the ledger transfer has not been confirmed yet (a later run finishes it).</summary>
    Claimed,

    /// <summary>The earnings moved to the payouts account; the money is still to be sent.</summary>
    Pending,

    Paid,

    /// <summary>Stripe reversed (part of) the transfer: what it took back is in the provider's earnings again, for the next payout run.</summary>
    Reversed,
}

/// <summary>A provider's payout preferences (one row per provider, created with defaults on first use).</summary>
public sealed class PayoutSettings : ITenantOwned
{
    public const long DefaultMinimumCents = 2_000;

    /// <summary>The largest minimum a provider may choose ($1,000,000), on the API and the page alike.</summary>
    public const int MaximumMinimumCents = 100_000_000;

    public Guid ProviderId { get; init; }
    public Guid OrganizationId { get; init; }
    public PayoutMethod Method { get; set; }

    /// <summary>Earnings below this stay until a later month (default $20).</summary>
    public long MinimumCents { get; set; } = DefaultMinimumCents;

    /// <summary>The Express connected account (<c>acct_…</c>) created by <c>POST /api/stripe/connect/</c>.</summary>
    public string? StripeAccountId { get; set; }

    /// <summary>Stripe says the account can receive transfers (from <c>account.updated</c>).</summary>
    public bool StripeTransfersEnabled { get; set; }
    public DateTime UpdatedUtc { get; set; }
}

/// <summary>
/// Earnings paid out to a provider for a month (<see cref="Period"/>, <c>yyyy-MM</c>): at most one per provider and
/// period. The credits left the provider's earnings account through a ledger transfer keyed
/// <c>payout:{provider}:{period}</c>; a credit is a US cent, so <see cref="AmountCents"/> equals <see cref="Credits"/>.
/// </summary>
public sealed class Payout : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ProviderId { get; init; }
    public Guid OrganizationId { get; init; }
    public required string Period { get; init; }

    /// <summary>The statement's days: after the previous payout's through the period's last day.</summary>
    public DateOnly StatementFrom { get; init; }
    public DateOnly StatementTo { get; init; }
    public long Credits { get; init; }
    public long AmountCents { get; init; }
    public PayoutMethod Method { get; init; }
    public PayoutStatus Status { get; set; }

    /// <summary>The operator's payment reference, or the Stripe transfer id.</summary>
    public string? Reference { get; set; }
    public string? StripeTransferId { get; set; }

    /// <summary>Why the money has not gone yet (Stripe unreachable, account not ready) or was reversed.</summary>
    public string? Note { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? PaidUtc { get; set; }
    public List<PayoutLine> Lines { get; init; } = [];

    public string LedgerKey => $"payout:{ProviderId}:{Period}";
}

/// <summary>One agent's line of a payout statement; a line without a listing gathers earnings that are not runs (monthly subscriptions).</summary>
public sealed class PayoutLine
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid PayoutId { get; init; }
    public Guid? ListingId { get; init; }
    public required string Description { get; init; }
    public long Runs { get; init; }
    public long GrossCredits { get; init; }
    public long CommissionCredits { get; init; }
    public long NetCredits { get; init; }
}

sealed class PayoutSettingsConfiguration : IEntityTypeConfiguration<PayoutSettings>
{
    public void Configure(EntityTypeBuilder<PayoutSettings> e)
    {
        e.ToTable("payout_settings");
        e.HasKey(x => x.ProviderId);
        e.Property(x => x.StripeAccountId).HasMaxLength(100);
        e.HasIndex(x => x.StripeAccountId);
        e.HasIndex(x => x.OrganizationId);
    }
}

sealed class PayoutConfiguration : IEntityTypeConfiguration<Payout>
{
    public void Configure(EntityTypeBuilder<Payout> e)
    {
        e.ToTable("payouts", t => t.HasCheckConstraint("ck_payouts_credits", "credits > 0"));
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.Period).HasMaxLength(7);
        e.Property(x => x.Reference).HasMaxLength(200);
        e.Property(x => x.StripeTransferId).HasMaxLength(100);
        e.Property(x => x.Note).HasMaxLength(500);
        e.Ignore(x => x.LedgerKey);
        // One payout per provider and month, whatever the number of concurrent runs or nodes.
        e.HasIndex(x => new { x.ProviderId, x.Period }).IsUnique();
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
        e.HasIndex(x => x.Status);
        e.HasMany(x => x.Lines).WithOne().HasForeignKey(x => x.PayoutId).OnDelete(DeleteBehavior.Cascade);
    }
}

sealed class PayoutLineConfiguration : IEntityTypeConfiguration<PayoutLine>
{
    public void Configure(EntityTypeBuilder<PayoutLine> e)
    {
        e.ToTable("payout_lines");
        e.Property(x => x.Id).ValueGeneratedNever();
        e.Property(x => x.Description).HasMaxLength(200);
    }
}
