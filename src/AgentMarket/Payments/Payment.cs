using AgentMarket.Credits.Plans;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payments;

public enum PaymentPurpose
{
    /// <summary>A top-up package.</summary>
    Package,

    /// <summary>Subscribing to or upgrading a plan.</summary>
    Plan,

    /// <summary>A plan's next billing period.</summary>
    Renewal,

    /// <summary>A package bought automatically when the balance fell below the threshold.</summary>
    AutoTopUp,
}

public enum PaymentStatus
{
    Pending,
    Succeeded,
    Failed,
    Refunded,
    PartiallyRefunded,
}

public enum PaymentProviderKind
{
    Sandbox,
    Stripe,
}

/// <summary>
/// A payment (its id is the checkout id). Fulfilment — credits, plan change, receipt — happens once, whichever path
/// reports success first (the sandbox checkout, Stripe's webhook, a renewal).
/// </summary>
public sealed class Payment : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public PaymentProviderKind Provider { get; init; }
    public PaymentPurpose Purpose { get; init; }
    public Guid? PackageId { get; init; }
    public string? PlanCode { get; init; }
    public BillingInterval? Interval { get; init; }
    public long AmountCents { get; init; }
    public string Currency { get; init; } = "usd";

    /// <summary>Credits the payment buys (packages; plans grant through the plan).</summary>
    public long Credits { get; init; }
    public required string Description { get; init; }
    public PaymentStatus Status { get; set; }
    public string? FailureReason { get; set; }
    public string? CardLast4 { get; set; }

    /// <summary>Stripe's checkout session id.</summary>
    public string? ExternalCheckoutId { get; set; }

    /// <summary>Stripe's payment intent or invoice id, used to match refunds.</summary>
    public string? ExternalPaymentId { get; set; }
    public long RefundedCents { get; set; }

    /// <summary>Renewals: the billing period this payment pays for (its start is the previous period's end).</summary>
    public DateTime? PeriodStartUtc { get; init; }

    /// <summary>Set for payments created by jobs (renewals, auto top-ups) so two instances cannot create the same one.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>
    /// Automatic payments the provider did not answer: not charged again before this time (null: a minute after
    /// <see cref="CreatedUtc"/>). Each attempt moves it, so an outage costs a request per wait, not per job tick.
    /// </summary>
    public DateTime? NextAttemptUtc { get; set; }
    public Guid? CreatedByUserId { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? CompletedUtc { get; set; }
}

sealed class PaymentConfiguration : IEntityTypeConfiguration<Payment>
{
    public void Configure(EntityTypeBuilder<Payment> e)
    {
        e.ToTable("payments");
        e.Property(x => x.PlanCode).HasMaxLength(40);
        e.Property(x => x.Currency).HasMaxLength(3);
        e.Property(x => x.Description).HasMaxLength(300);
        e.Property(x => x.FailureReason).HasMaxLength(300);
        e.Property(x => x.CardLast4).HasMaxLength(4);
        e.Property(x => x.ExternalCheckoutId).HasMaxLength(200);
        e.Property(x => x.ExternalPaymentId).HasMaxLength(200);
        e.Property(x => x.IdempotencyKey).HasMaxLength(200);
        e.HasOne<Identity.Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
        e.HasIndex(x => x.IdempotencyKey).IsUnique();
        e.HasIndex(x => x.ExternalCheckoutId);
        e.HasIndex(x => x.ExternalPaymentId);
        e.HasIndex(x => x.CompletedUtc); // the operator's platform metrics read a range of completed payments
    }
}
