using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Webhooks;

/// <summary>
/// Where an organization wants its events POSTed, and which ones. The signing secret is kept encrypted with Data
/// Protection (it must be read back to sign); it is shown to the user only when created or rotated.
/// </summary>
public sealed class WebhookEndpoint : ITenantOwned
{
    public const int MaxUrlLength = 2000;
    public const int MaxDescriptionLength = 500;

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string Url { get; set; }
    public string Description { get; set; } = "";
    public List<string> EventTypes { get; set; } = [];

    /// <summary>The <c>whsec_…</c> secret, protected with <see cref="WebhookSecrets.Purpose"/>.</summary>
    public required string SecretCiphertext { get; set; }

    /// <summary>The secret before the last rotation: deliveries are signed with it too until it expires.</summary>
    public string? PreviousSecretCiphertext { get; set; }
    public DateTime? PreviousSecretExpiresUtc { get; set; }

    /// <summary>
    /// The secret the previous one replaced, while its own grace lasts: two rotations in a row keep signing with the secret
    /// the receiver actually verifies with (ADR-141).
    /// </summary>
    public string? OlderSecretCiphertext { get; set; }
    public DateTime? OlderSecretExpiresUtc { get; set; }

    public bool Enabled { get; set; } = true;
    public string? DisabledReason { get; set; }
    public DateTime? DisabledUtc { get; set; }

    /// <summary>Failed attempts since the last successful one, over all of the endpoint's deliveries.</summary>
    public int ConsecutiveFailures { get; set; }

    /// <summary>When the current run of failures started; null while the last attempt succeeded.</summary>
    public DateTime? FailingSinceUtc { get; set; }

    public Guid? CreatedByUserId { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }
}

sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> e)
    {
        e.ToTable("webhook_endpoints");
        e.Property(x => x.Url).HasMaxLength(WebhookEndpoint.MaxUrlLength);
        e.Property(x => x.Description).HasMaxLength(WebhookEndpoint.MaxDescriptionLength);
        e.Property(x => x.SecretCiphertext).HasMaxLength(1000);
        e.Property(x => x.PreviousSecretCiphertext).HasMaxLength(1000);
        e.Property(x => x.OlderSecretCiphertext).HasMaxLength(1000);
        e.Property(x => x.DisabledReason).HasMaxLength(300);
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
    }
}
