using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Catalog.Images;

/// <summary>
/// An uploaded picture (listing preview, provider avatar), stored in the database so every replica serves it.
/// Not tenant-filtered: an image is public at its URL once uploaded, like the listing that shows it; uploads check the
/// organization. The content type comes from the file's own signature, never from the upload's headers.
/// </summary>
public sealed class CatalogImage
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid OrganizationId { get; init; }
    public required string ContentType { get; init; }
    public required byte[] Content { get; init; }
    public int SizeBytes { get; init; }
    public DateTime CreatedUtc { get; init; }

    public string Url => CatalogImages.UrlFor(Id, ContentType);
}

sealed class CatalogImageConfiguration : IEntityTypeConfiguration<CatalogImage>
{
    public void Configure(EntityTypeBuilder<CatalogImage> e)
    {
        e.ToTable("catalog_images");
        e.Ignore(x => x.Url);
        e.Property(x => x.ContentType).HasMaxLength(40);
        e.HasIndex(x => x.OrganizationId);
    }
}
