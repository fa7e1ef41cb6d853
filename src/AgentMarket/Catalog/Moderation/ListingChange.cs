using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Moderation;

/// <summary>
/// What a provider proposes to change of what buyers read of a live listing, held until an operator approves it (ADR-163):
/// one per listing. A field left null is not changed (it keeps the live value); <see cref="PreviewImageUrl"/> "" removes
/// the image. Once rejected it stays, with the operator's note, for its provider to read, until their next edit replaces it.
/// </summary>
public sealed class ListingChange
{
    public Guid ListingId { get; init; }
    public string? Name { get; set; }
    public string? ShortDescription { get; set; }

    /// <summary>Markdown, as <see cref="Listing.Description"/>.</summary>
    public string? Description { get; set; }
    public List<string>? Tags { get; set; }
    public Guid? CategoryId { get; set; }
    public string? PreviewImageUrl { get; set; }
    public DateTime SubmittedUtc { get; set; }
    public DateTime? RejectedUtc { get; set; }

    /// <summary>Why an operator rejected the change; shown to the provider.</summary>
    public string? RejectionNote { get; set; }

    public bool IsEmpty => Name is null && ShortDescription is null && Description is null && Tags is null && CategoryId is null && PreviewImageUrl is null;
}

sealed class ListingChangeConfiguration : IEntityTypeConfiguration<ListingChange>
{
    public void Configure(EntityTypeBuilder<ListingChange> e)
    {
        e.ToTable("listing_changes");
        e.HasKey(x => x.ListingId);
        e.Property(x => x.Name).HasMaxLength(120);
        e.Property(x => x.ShortDescription).HasMaxLength(300);
        e.Property(x => x.Description).HasMaxLength(20_000);
        e.Property(x => x.PreviewImageUrl).HasMaxLength(500);
        e.Property(x => x.RejectionNote).HasMaxLength(1000);
        e.HasOne<Listing>().WithOne().HasForeignKey<ListingChange>(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasOne<Category>().WithMany().HasForeignKey(x => x.CategoryId).OnDelete(DeleteBehavior.Restrict);
    }
}
