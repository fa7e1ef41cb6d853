using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Reviews;

/// <summary>One organization's review of a listing (1–5 stars, editable), public, with an optional public reply by the provider.</summary>
public sealed class Review
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ListingId { get; init; }
    public Guid OrganizationId { get; init; }
    public Guid UserId { get; init; }
    public int Rating { get; set; }
    public string Text { get; set; } = "";
    public string? ProviderReply { get; set; }
    public DateTime? ProviderReplyUtc { get; set; }
    public DateTime CreatedUtc { get; init; }
    public DateTime UpdatedUtc { get; set; }

    /// <summary>When an operator hid the review: it left the listing's page and rating; the row stays for the record.</summary>
    public DateTime? HiddenUtc { get; set; }
    public string? HiddenReason { get; set; }
}

sealed class ReviewConfiguration : IEntityTypeConfiguration<Review>
{
    public void Configure(EntityTypeBuilder<Review> e)
    {
        e.ToTable("reviews", t => t.HasCheckConstraint("ck_reviews_rating", "rating BETWEEN 1 AND 5"));
        e.Property(x => x.Text).HasMaxLength(5000);
        e.Property(x => x.ProviderReply).HasMaxLength(5000);
        e.Property(x => x.HiddenReason).HasMaxLength(1000);
        e.HasOne<Listing>().WithMany().HasForeignKey(x => x.ListingId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.ListingId, x.OrganizationId }).IsUnique();
    }
}
