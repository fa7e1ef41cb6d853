using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Reviews;

/// <summary>A signed-in user's report that a review breaks the rules; operators see the open ones.</summary>
public sealed class ReviewReport
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid ReviewId { get; init; }
    public Guid ReporterUserId { get; init; }
    public required string Reason { get; init; }
    public DateTime CreatedUtc { get; init; }
    public DateTime? ResolvedUtc { get; set; }
    public Guid? ResolvedByUserId { get; set; }
}

sealed class ReviewReportConfiguration : IEntityTypeConfiguration<ReviewReport>
{
    public void Configure(EntityTypeBuilder<ReviewReport> e)
    {
        e.ToTable("review_reports");
        e.Property(x => x.Reason).HasMaxLength(1000);
        e.HasOne<Review>().WithMany().HasForeignKey(x => x.ReviewId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => new { x.ReviewId, x.ReporterUserId }).IsUnique();
        e.HasIndex(x => x.ResolvedUtc);
    }
}
