using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payments;

/// <summary>
/// An organization's customer at the payment provider (Stripe) and the card it saved for off-session payments, which
/// is what an automatic top-up charges. Stripe's ids are references, not secrets; the card's brand and last four digits
/// are what Stripe itself shows a customer, kept so the credits page can say which card will be charged.
/// </summary>
public sealed class PaymentCustomer : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }

    /// <summary>Stripe's <c>cus_…</c> id; later checkouts reuse it, so one organization is one Stripe customer.</summary>
    public required string CustomerId { get; set; }

    /// <summary>Stripe's <c>pm_…</c> id of the card saved for off-session use; null until a package purchase saves one.</summary>
    public string? PaymentMethodId { get; set; }
    public string? CardBrand { get; set; }
    public string? CardLast4 { get; set; }

    /// <summary>
    /// When the checkout that saved the card started. Stripe may deliver an older checkout's webhook after a newer one's;
    /// the card of the checkout the buyer started last is kept.
    /// </summary>
    public DateTime? CardCheckoutStartedUtc { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }
}

sealed class PaymentCustomerConfiguration : IEntityTypeConfiguration<PaymentCustomer>
{
    public void Configure(EntityTypeBuilder<PaymentCustomer> e)
    {
        e.ToTable("payment_customers");
        e.Property(x => x.CustomerId).HasMaxLength(255);
        e.Property(x => x.PaymentMethodId).HasMaxLength(255);
        e.Property(x => x.CardBrand).HasMaxLength(40);
        e.Property(x => x.CardLast4).HasMaxLength(4);
        e.HasOne<Identity.Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.OrganizationId).IsUnique();
    }
}
