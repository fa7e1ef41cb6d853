using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Webhooks;

/// <summary>One HTTP attempt of a delivery, as the owner sees it in the delivery log: what the endpoint answered and how fast.</summary>
public sealed class WebhookAttempt : ITenantOwned
{
    /// <summary>Enough of a response body to recognise an error page, without storing whatever a receiver sends.</summary>
    public const int MaxResponseBodyLength = 1000;

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid DeliveryId { get; init; }
    public DateTime StartedUtc { get; init; }

    /// <summary>The HTTP status, or null when no response came (refused, timed out, blocked by the outbound guard).</summary>
    public int? ResponseCode { get; init; }
    public int DurationMs { get; init; }
    public string? ResponseBody { get; init; }
    public string? Error { get; init; }
}

sealed class WebhookAttemptConfiguration : IEntityTypeConfiguration<WebhookAttempt>
{
    public void Configure(EntityTypeBuilder<WebhookAttempt> e)
    {
        e.ToTable("webhook_attempts");
        e.Property(x => x.ResponseBody).HasMaxLength(WebhookAttempt.MaxResponseBodyLength);
        e.Property(x => x.Error).HasMaxLength(WebhookDelivery.MaxErrorLength);
        e.HasOne<WebhookDelivery>().WithMany().HasForeignKey(x => x.DeliveryId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.DeliveryId, x.StartedUtc });
    }
}
