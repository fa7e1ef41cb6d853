using AgentMarket.Platform.Data;
using AgentMarket.Platform.Events;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Webhooks;

public enum WebhookDeliveryState
{
    /// <summary>Waiting for its next attempt (<see cref="WebhookDelivery.NextAttemptUtc"/>).</summary>
    Pending,

    /// <summary>Claimed by a dispatcher that is sending it; taken over when the lease in <see cref="WebhookDelivery.NextAttemptUtc"/> ends.</summary>
    Sending,

    Succeeded,

    /// <summary>Every attempt failed, or its endpoint was disabled; only a manual redelivery sends it again.</summary>
    Failed,
}

/// <summary>
/// One event on its way to one endpoint, and the log of how that went. At most one per (event, endpoint): the unique
/// index is what makes a fan-out that is retried after a crash harmless.
/// </summary>
public sealed class WebhookDelivery : ITenantOwned
{
    public const int MaxErrorLength = 500;

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid EndpointId { get; init; }
    public Guid EventId { get; init; }
    public required string EventType { get; init; }
    public WebhookDeliveryState State { get; set; }

    /// <summary>Attempts since the delivery was created or last redelivered by hand; picks the next back-off delay.</summary>
    public int Attempts { get; set; }

    /// <summary>When a pending delivery is due, or when a sending one's lease ends; null once it succeeded or failed.</summary>
    public DateTime? NextAttemptUtc { get; set; }

    /// <summary>The claim of the dispatcher sending it: a dispatcher that lost its lease cannot record a result.</summary>
    public Guid? ClaimToken { get; set; }

    public DateTime? LastAttemptUtc { get; set; }
    public int? LastResponseCode { get; set; }
    public string? LastError { get; set; }
    public int? LastDurationMs { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? CompletedUtc { get; set; }
}

sealed class WebhookDeliveryConfiguration : IEntityTypeConfiguration<WebhookDelivery>
{
    public void Configure(EntityTypeBuilder<WebhookDelivery> e)
    {
        e.ToTable("webhook_deliveries");
        e.Property(x => x.EventType).HasMaxLength(60);
        e.Property(x => x.LastError).HasMaxLength(WebhookDelivery.MaxErrorLength);
        e.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(x => x.EndpointId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<OutboxEvent>().WithMany().HasForeignKey(x => x.EventId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.EventId, x.EndpointId }).IsUnique();
        e.HasIndex(x => new { x.EndpointId, x.CreatedUtc });
        e.HasIndex(x => x.NextAttemptUtc);
        e.HasIndex(x => x.ClaimToken);
    }
}
