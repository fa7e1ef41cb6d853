using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Credits.Plans;

/// <summary>A top-up package (Plus and Pro only), editable by operators; seeded with Starter, Standard and Power.</summary>
public sealed class CreditPackage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Name { get; set; }
    public long Credits { get; set; }
    public long BonusCredits { get; set; }
    public long PriceCents { get; set; }
    public bool Active { get; set; } = true;
    public int SortOrder { get; set; }

    public long TotalCredits => Credits + BonusCredits;
}

sealed class CreditPackageConfiguration : IEntityTypeConfiguration<CreditPackage>
{
    public void Configure(EntityTypeBuilder<CreditPackage> e)
    {
        e.ToTable("credit_packages");
        e.Property(x => x.Name).HasMaxLength(100);
        e.HasIndex(x => x.Name).IsUnique();
        e.Ignore(x => x.TotalCredits);
    }
}
