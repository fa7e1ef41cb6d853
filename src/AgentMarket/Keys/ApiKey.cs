using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Keys;

public enum ApiKeyKind
{
    /// <summary><c>am_live_…</c>: for servers; never in a browser.</summary>
    Secret,

    /// <summary><c>am_pub_…</c>: for the embeddable widget, usable only from the key's allowed origins.</summary>
    Publishable,
}

/// <summary>
/// A key bound to one subscription. Only the SHA-256 of the secret is stored. After a rotation the previous secret keeps
/// working until <see cref="GraceUntilUtc"/>, and the one before it, if still in its grace, until
/// <see cref="OlderGraceUntilUtc"/> (ADR-141); revocation is effective at once.
/// </summary>
public sealed class ApiKey : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid ConfigId { get; init; }
    public required string Name { get; set; }
    public ApiKeyKind Kind { get; init; }
    public required string Prefix { get; set; }
    public required string KeyHash { get; set; }
    public string? GraceKeyHash { get; set; }
    public DateTime? GraceUntilUtc { get; set; }

    /// <summary>
    /// The secret <see cref="GraceKeyHash"/> replaced, while its own grace lasts: two rotations in a row (a double click)
    /// must not end the secret the buyer's servers actually use.
    /// </summary>
    public string? OlderGraceKeyHash { get; set; }
    public DateTime? OlderGraceUntilUtc { get; set; }
    public List<string> Scopes { get; set; } = [];
    public List<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// Publishable keys only: the key itself, encrypted with Data Protection, so the widget page can show the embed code
    /// again. A publishable key is public by design (it sits in the buyer's web pages); lookups still go by hash.
    /// </summary>
    public string? PublishableKeyProtected { get; set; }

    /// <summary>Credits this key may spend in total; null means no limit beyond the wallet.</summary>
    public long? BudgetCredits { get; set; }
    public long SpentCredits { get; set; }
    public int? RateLimitPerMinute { get; set; }
    public Guid? CreatedByUserId { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? LastUsedUtc { get; set; }
    public DateTime? ExpiresUtc { get; set; }
    public DateTime? RevokedUtc { get; set; }
}

sealed class ApiKeyConfiguration : IEntityTypeConfiguration<ApiKey>
{
    public void Configure(EntityTypeBuilder<ApiKey> e)
    {
        e.ToTable("api_keys");
        e.Property(x => x.Name).HasMaxLength(100);
        e.Property(x => x.Prefix).HasMaxLength(20);
        e.Property(x => x.KeyHash).HasMaxLength(64);
        e.Property(x => x.GraceKeyHash).HasMaxLength(64);
        e.Property(x => x.OlderGraceKeyHash).HasMaxLength(64);
        e.Property(x => x.PublishableKeyProtected).HasMaxLength(1000);
        e.HasOne<Subscriptions.CustomerAgentConfig>().WithMany().HasForeignKey(x => x.ConfigId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.KeyHash).IsUnique();
        e.HasIndex(x => x.GraceKeyHash);
        e.HasIndex(x => x.OlderGraceKeyHash);
        e.HasIndex(x => new { x.OrganizationId, x.ConfigId });
    }
}
