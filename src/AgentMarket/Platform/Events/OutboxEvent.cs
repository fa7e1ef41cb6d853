using System.Text.Json;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Platform.Events;

/// <summary>
/// A domain event (<c>credits.purchased</c>, <c>credits.low_balance</c>…) written in the same transaction as the change it
/// reports: the transactional outbox that outbound webhooks deliver from, so an event exists exactly when its change does.
/// </summary>
public sealed class OutboxEvent : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string Type { get; init; }

    /// <summary>The event's data as snake_case JSON.</summary>
    public required string Payload { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? DispatchedUtc { get; set; }

    // Enums as the API spells them ("fixed_credits"), not as numbers a receiver would have to look up.
    static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static OutboxEvent Create(Guid organization, string type, object data, DateTime nowUtc) => new()
    {
        OrganizationId = organization,
        Type = type,
        Payload = JsonSerializer.Serialize(data, Json),
        CreatedUtc = nowUtc,
    };
}

sealed class OutboxEventConfiguration : IEntityTypeConfiguration<OutboxEvent>
{
    public void Configure(EntityTypeBuilder<OutboxEvent> e)
    {
        e.ToTable("outbox_events");
        e.Property(x => x.Type).HasMaxLength(60);
        e.HasIndex(x => new { x.DispatchedUtc, x.CreatedUtc });
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
    }
}
