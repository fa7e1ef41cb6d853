using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payments;

/// <summary>
/// One refund of (part of) a payment, recorded in the transaction that adds its cents to the payment, before its credits
/// are taken back (ADR-135). What it takes back is fixed here, so finishing it later, by a retry or by the sweep in
/// <c>CreditJobs</c>, books exactly what the refund computed, under the same ledger keys.
/// </summary>
public sealed class PaymentRefund : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid PaymentId { get; init; }
    public Guid OrganizationId { get; init; }

    /// <summary>Who asked for it: Stripe's refund or event id, or <c>operator:{id}</c>. A replay of the key changes nothing.</summary>
    public required string RefundKey { get; init; }
    public long Cents { get; init; }

    /// <summary>Paid credits taken back (ledger key <c>refund:{payment}:{key}</c>).</summary>
    public long Credits { get; init; }

    /// <summary>Monthly credits of a plan payment taken back (ledger key <c>refund:{payment}:{key}:grant</c>).</summary>
    public long GrantCredits { get; init; }

    /// <summary>The refund completed the payment of the organization's current plan period, which it put on Free.</summary>
    public bool EndedPlan { get; init; }
    public DateTime CreatedUtc { get; init; }

    /// <summary>When its ledger effects were done; null until then.</summary>
    public DateTime? AppliedUtc { get; set; }
}

sealed class PaymentRefundConfiguration : IEntityTypeConfiguration<PaymentRefund>
{
    public void Configure(EntityTypeBuilder<PaymentRefund> e)
    {
        e.ToTable("payment_refunds");
        e.Property(x => x.RefundKey).HasMaxLength(200);
        e.HasOne<Payment>().WithMany().HasForeignKey(x => x.PaymentId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.PaymentId, x.RefundKey }).IsUnique();
        e.HasIndex(x => x.AppliedUtc); // the sweep looks for refunds not yet applied
    }
}
