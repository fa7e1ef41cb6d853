using AgentMarket.Catalog;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Subscriptions;

public enum SubscriptionState
{
    Active,

    /// <summary>A subscription-priced agent whose month could not be paid: runs stop until the next charge succeeds.</summary>
    PastDue,
    Terminated,
}

public enum WidgetPosition
{
    BottomRight,
    BottomLeft,
}

public enum WidgetTheme
{
    Auto,
    Light,
    Dark,
}

/// <summary>
/// A buyer's subscription to a listing ("Add to My Agents") and everything that makes the agent theirs: the version it
/// pins, the values of the provider's declared fields (persona, greeting…), branding and widget settings, their own model
/// key and their knowledge base. Only declared fields reach the flow, as tweaks (<see cref="SubscriptionSettings"/>).
/// </summary>
public sealed class CustomerAgentConfig : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid ProjectId { get; init; }
    public Guid ListingId { get; init; }

    /// <summary>The version the subscription runs; later patch releases of the same major.minor apply automatically.</summary>
    public Guid AgentVersionId { get; set; }
    public SubscriptionState State { get; set; }

    /// <summary>The buyer's name for this agent (defaults to the listing's).</summary>
    public required string Name { get; set; }

    /// <summary>Values of the provider's declared fields, by field key, as a JSON object.</summary>
    public string SettingsJson { get; set; } = "{}";

    public string? BrandColor { get; set; }
    public string? LogoUrl { get; set; }
    public string? WelcomeMessage { get; set; }
    public WidgetPosition WidgetPosition { get; set; }
    public WidgetTheme WidgetTheme { get; set; }

    /// <summary>Bring your own model: an OpenAI-compatible endpoint, model and key (the key encrypted with Data Protection).</summary>
    public string? ModelBaseUrl { get; set; }
    public string? ModelName { get; set; }
    public string? ModelApiKeyProtected { get; set; }

    /// <summary>The buyer's knowledge base for this agent, created with the subscription.</summary>
    public Guid? KnowledgeBaseId { get; set; }

    public DateTime SubscribedUtc { get; init; }
    public DateTime? TerminatedUtc { get; set; }

    /// <summary>Subscription-priced agents: when the next month's credits are due.</summary>
    public DateTime? NextChargeUtc { get; set; }
    public Guid? CreatedByUserId { get; init; }
    public DateTime UpdatedUtc { get; set; }

    public Listing? Listing { get; init; }
}

public enum OrderType
{
    Create,
    Terminate,
}

public enum OrderState
{
    Done,
}

/// <summary>A record of a subscription change (Waldur's order), kept for the history; nothing waits for approval.</summary>
public sealed class Order : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid ProjectId { get; init; }
    public Guid ListingId { get; init; }
    public Guid ConfigId { get; init; }
    public OrderType Type { get; init; }
    public OrderState State { get; init; }
    public Guid? CreatedByUserId { get; init; }
    public DateTime CreatedUtc { get; init; }
}

sealed class CustomerAgentConfigConfiguration : IEntityTypeConfiguration<CustomerAgentConfig>
{
    public void Configure(EntityTypeBuilder<CustomerAgentConfig> e)
    {
        e.ToTable("customer_agent_configs");
        e.Property(x => x.Name).HasMaxLength(120);
        e.Property(x => x.SettingsJson).HasMaxLength(64_000);
        e.Property(x => x.BrandColor).HasMaxLength(7);
        e.Property(x => x.LogoUrl).HasMaxLength(500);
        e.Property(x => x.WelcomeMessage).HasMaxLength(500);
        e.Property(x => x.ModelBaseUrl).HasMaxLength(500);
        e.Property(x => x.ModelName).HasMaxLength(100);
        e.Property(x => x.ModelApiKeyProtected).HasMaxLength(2000);
        e.HasOne(x => x.Listing).WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<Identity.Project>().WithMany().HasForeignKey(x => x.ProjectId).OnDelete(DeleteBehavior.Restrict);
        e.HasIndex(x => new { x.OrganizationId, x.State });
        e.HasIndex(x => new { x.ListingId, x.State });
        // One live subscription per agent and project: two concurrent subscribes cannot both store one (and both pay).
        e.HasIndex(x => new { x.ProjectId, x.ListingId }).IsUnique().HasFilter("state <> 'terminated'");
        e.HasIndex(x => x.ProjectId); // the foreign key's, which the partial index above cannot stand in for
        e.HasIndex(x => x.NextChargeUtc);
    }
}

sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public void Configure(EntityTypeBuilder<Order> e)
    {
        e.ToTable("orders");
        e.HasOne<CustomerAgentConfig>().WithMany().HasForeignKey(x => x.ConfigId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
    }
}
