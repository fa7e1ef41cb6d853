using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// A Stripe event we have handled. Stripe delivers events at least once (and again when an endpoint answers late), so
/// the unique event id makes a replay a no-op. Platform-level, like the webhook: it belongs to no tenant.
/// </summary>
public sealed class ProcessedStripeEvent
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>Stripe's <c>evt_…</c> id.</summary>
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public DateTime ProcessedUtc { get; init; }
}

sealed class ProcessedStripeEventConfiguration : IEntityTypeConfiguration<ProcessedStripeEvent>
{
    public void Configure(EntityTypeBuilder<ProcessedStripeEvent> e)
    {
        e.ToTable("stripe_events");
        e.Property(x => x.EventId).HasMaxLength(255);
        e.Property(x => x.Type).HasMaxLength(100);
        e.HasIndex(x => x.EventId).IsUnique();
    }
}
