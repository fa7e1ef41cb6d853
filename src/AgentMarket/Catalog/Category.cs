using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog;

/// <summary>A catalog category shown as a filter pill. Seeded with Agents, Apps, Assistants, Automations; operators add more.</summary>
public sealed class Category
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Slug { get; init; }
    public required string Name { get; set; }
    public int SortOrder { get; set; }
    public string? Icon { get; set; }
}

sealed class CategoryConfiguration : IEntityTypeConfiguration<Category>
{
    public void Configure(EntityTypeBuilder<Category> e)
    {
        e.ToTable("categories");
        e.Property(x => x.Slug).HasMaxLength(60);
        e.Property(x => x.Name).HasMaxLength(100);
        e.Property(x => x.Icon).HasMaxLength(60);
        e.HasIndex(x => x.Slug).IsUnique();
    }
}
