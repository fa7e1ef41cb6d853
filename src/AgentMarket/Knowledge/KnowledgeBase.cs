using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Knowledge;

/// <summary>
/// A named set of training documents owned by one organization. A subscription's configuration and a provider's agent
/// each point to one by id; the runtime searches the subscription's and the provider's together.
/// </summary>
public sealed class KnowledgeBase : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string Name { get; set; }
    public DateTime CreatedUtc { get; init; }
}

sealed class KnowledgeBaseConfiguration : IEntityTypeConfiguration<KnowledgeBase>
{
    public void Configure(EntityTypeBuilder<KnowledgeBase> e)
    {
        e.ToTable("knowledge_bases");
        e.Property(x => x.Name).HasMaxLength(200);
        e.HasOne<Identity.Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.OrganizationId, x.CreatedUtc });
    }
}
