using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Providers;

/// <summary>
/// An approved provider's edit of its public profile, held until an operator approves it (ADR-170): one per provider, and
/// a newer edit replaces it. A field left null keeps the live value; <see cref="Bio"/> or <see cref="AvatarUrl"/> "" removes
/// the bio or the avatar (ADR-173). Once rejected it stays, with the operator's note, for the provider to read, until their
/// next edit replaces it.
/// </summary>
public sealed class ProviderProfileChange
{
    public Guid ProviderId { get; init; }
    public string? Name { get; set; }
    public string? Bio { get; set; }
    public string? AvatarUrl { get; set; }
    public DateTime SubmittedUtc { get; set; }
    public DateTime? RejectedUtc { get; set; }

    /// <summary>Why an operator rejected the edit; shown to the provider.</summary>
    public string? RejectionNote { get; set; }

    public bool IsEmpty => Name is null && Bio is null && AvatarUrl is null;
}

sealed class ProviderProfileChangeConfiguration : IEntityTypeConfiguration<ProviderProfileChange>
{
    public void Configure(EntityTypeBuilder<ProviderProfileChange> e)
    {
        e.ToTable("provider_profile_changes");
        e.HasKey(x => x.ProviderId);
        e.Property(x => x.Name).HasMaxLength(200);
        e.Property(x => x.Bio).HasMaxLength(2000);
        e.Property(x => x.AvatarUrl).HasMaxLength(500);
        e.Property(x => x.RejectionNote).HasMaxLength(1000);
        e.HasOne<Provider>().WithOne().HasForeignKey<ProviderProfileChange>(x => x.ProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}
