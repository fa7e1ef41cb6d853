using AgentMarket.Catalog;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers.Agents;

public enum ProviderAgentState
{
    Active,
    Archived,
}

/// <summary>
/// A seller's agent: the thing versions are imported into and a listing is published from (SPEC §5). Private to the
/// provider's organization; what buyers see is the <see cref="Listing"/>.
/// </summary>
public sealed class ProviderAgent : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public Guid ProviderId { get; init; }
    public required string Name { get; set; }
    public string Description { get; set; } = "";
    public Guid CategoryId { get; set; }
    public ProviderAgentState State { get; set; }

    /// <summary>The version runs use and the listing serves; null until the first flow is imported.</summary>
    public Guid? CurrentVersionId { get; set; }

    /// <summary>The provider's own knowledge base, which every run of the agent reads (read only) besides the buyer's.</summary>
    public Guid? KnowledgeBaseId { get; set; }

    /// <summary>
    /// When the provider declared that the agent runs on its own runtime and reports each run's usage
    /// (<c>POST /api/runtime/usage/</c>); null while it does not, and then no report for the agent is accepted. Copied to
    /// <see cref="Listing.ReportsUsageSinceUtc"/> in the same save, for buyers and the gateway (ADR-127).
    /// </summary>
    public DateTime? ReportsUsageSinceUtc { get; set; }

    /// <summary>
    /// Whether a subscription may send the agent's model calls to an endpoint of the buyer's own (bring your own model):
    /// that endpoint receives the flow's prompts, so a provider who keeps them private turns it off. A buyer's key for the
    /// platform's endpoint is unaffected. On unless the provider turns it off (ADR-138).
    /// </summary>
    public bool BuyerModelEndpointsAllowed { get; set; } = true;
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }

    public Category? Category { get; init; }
}

sealed class ProviderAgentConfiguration : IEntityTypeConfiguration<ProviderAgent>
{
    public void Configure(EntityTypeBuilder<ProviderAgent> e)
    {
        e.ToTable("provider_agents");
        e.Property(x => x.Name).HasMaxLength(120);
        e.Property(x => x.Description).HasMaxLength(2000);
        e.HasOne<Provider>().WithMany().HasForeignKey(x => x.ProviderId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne(x => x.Category).WithMany().HasForeignKey(x => x.CategoryId).OnDelete(DeleteBehavior.Restrict);
        // Versions point at their agent and the agent at its current version; the pointer is optional, so EF can
        // insert the agent first and set it afterwards.
        e.HasOne<AgentVersion>().WithMany().HasForeignKey(x => x.CurrentVersionId).OnDelete(DeleteBehavior.Restrict);
        e.HasOne<Knowledge.KnowledgeBase>().WithMany().HasForeignKey(x => x.KnowledgeBaseId).OnDelete(DeleteBehavior.SetNull);
        e.HasIndex(x => new { x.OrganizationId, x.State });
        e.HasIndex(x => x.ProviderId);
        // The column's default (true) is for rows from before it existed. EF leaves a property out of an insert when it
        // holds the sentinel, so the sentinel is true too: a false is always written, never replaced by the default.
        e.Property(x => x.BuyerModelEndpointsAllowed).HasDefaultValue(true).HasSentinel(true);
    }
}
