using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Plans;

/// <summary>
/// The plan an organization is on and its billing period. A downgrade is recorded in <see cref="ScheduledPlanCode"/>
/// and takes effect at the end of the period; monthly credits follow <see cref="CreditPeriodStartUtc"/>, which advances
/// monthly even on yearly billing.
/// </summary>
public sealed class OrganizationPlan : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public string PlanCode { get; set; } = Plan.Free;
    public BillingInterval Interval { get; set; }

    /// <summary>Null on Free (no billing period).</summary>
    public DateTime? CurrentPeriodEndUtc { get; set; }
    public DateTime? CurrentPeriodStartUtc { get; set; }
    public DateTime? CreditPeriodStartUtc { get; set; }
    public string? ScheduledPlanCode { get; set; }
    public BillingInterval? ScheduledInterval { get; set; }

    /// <summary>Stripe's subscription id when the plan is billed by Stripe.</summary>
    public string? ExternalSubscriptionId { get; set; }

    /// <summary>Low-balance alert threshold in credits (null: off) and whether the alert has fired since the balance last went above it.</summary>
    public long? LowBalanceThreshold { get; set; }
    public bool LowBalanceAlerted { get; set; }

    /// <summary>Auto top-up (Plus/Pro): buy this package when the available balance falls below the threshold.</summary>
    public Guid? AutoTopUpPackageId { get; set; }
    public long? AutoTopUpThreshold { get; set; }

    /// <summary>
    /// Why the last automatic top-up failed (a declined card, a bank asking for authentication) and when; the failure
    /// switched auto top-up off. The time is part of the next top-up's idempotency key, so turning it on again retries.
    /// A payment the provider never answered sets the time only (auto top-up stays on), so the next crossing buys anew.
    /// </summary>
    public string? AutoTopUpFailureReason { get; set; }
    public DateTime? AutoTopUpFailedUtc { get; set; }

    /// <summary>
    /// When the daily cap of automatic purchases last stopped one and the owners were told: they are told again only a
    /// day later, however many crossings the cap refuses meanwhile.
    /// </summary>
    public DateTime? AutoTopUpPausedUtc { get; set; }

    /// <summary>Hard limit of credits one chat session may spend (used by the run gateway); null: no limit.</summary>
    public long? SessionCreditCap { get; set; }

    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }
}

sealed class OrganizationPlanConfiguration : IEntityTypeConfiguration<OrganizationPlan>
{
    public void Configure(EntityTypeBuilder<OrganizationPlan> e)
    {
        e.ToTable("organization_plans");
        e.Property(x => x.PlanCode).HasMaxLength(40);
        e.Property(x => x.ScheduledPlanCode).HasMaxLength(40);
        e.Property(x => x.ExternalSubscriptionId).HasMaxLength(100);
        e.Property(x => x.AutoTopUpFailureReason).HasMaxLength(300);
        e.HasOne<Identity.Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.OrganizationId).IsUnique();
        e.HasIndex(x => x.CurrentPeriodEndUtc);
        e.HasIndex(x => x.ExternalSubscriptionId); // Stripe webhooks find the plan by its subscription
    }
}
