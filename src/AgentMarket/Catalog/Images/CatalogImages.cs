using System.Linq.Expressions;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace AgentMarket.Catalog.Images;

/// <summary>
/// Stores uploaded images after checking their size, their real type (from the bytes, not the headers), the pixel size
/// their header declares, and the organization's quota (ADR-162).
/// </summary>
public sealed class CatalogImages(AppDbContext db, AuditLog audit, IOptionsMonitor<MarketplaceOptions> options, Platform.Ui.UploadLimits uploads, TimeProvider clock)
{
    public const string RoutePrefix = "/media/images";

    // Advisory-lock key space of the organization's images (the quota check, deletes, and what makes an image shown, see
    // LockAsync); the second key is derived from the organization.
    const int PostgresLockSpace = 0x494D; // "IM"

    public sealed record Failure(int Status, string Code, string Message);

    /// <summary>
    /// What shows an image: a listing (its id, name and page; <c>WaitingForReview</c> when only its edit waiting for an
    /// operator uses it) or the provider's avatar (no listing, no page).
    /// </summary>
    public sealed record ImageUse(string Kind, Guid? ListingId, string Name, string? Url, bool WaitingForReview);

    public enum DeleteOutcome { Deleted, NotFound, InUse }

    public sealed record KeptImage(Guid Id, string Url, string ContentType, int SizeBytes, DateTime CreatedUtc, IReadOnlyList<ImageUse> UsedBy);

    public static string UrlFor(Guid id, string contentType) => $"{RoutePrefix}/{id}.{ExtensionFor(contentType)}";

    /// <summary>The image a reference names: its uuid or the url the upload returned (<c>/media/images/{uuid}.png</c>).</summary>
    public static Guid? IdOf(string? reference)
    {
        if (string.IsNullOrWhiteSpace(reference))
        {
            return null;
        }
        var name = reference.StartsWith(RoutePrefix + "/", StringComparison.Ordinal) ? Path.GetFileNameWithoutExtension(reference) : reference;
        return Guid.TryParse(name, out var id) ? id : null;
    }

    /// <summary>Reads at most the configured maximum from <paramref name="content"/> and stores it if it is a PNG, JPEG, GIF or WebP.</summary>
    public async Task<(CatalogImage? Image, Failure? Failure)> StoreAsync(Guid organizationId, Stream content, CancellationToken ct)
    {
        var limit = uploads.For(Platform.Ui.UploadKind.Image);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await content.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit.MaxBytes)
            {
                return (null, new Failure(StatusCodes.Status413PayloadTooLarge, Platform.Errors.ProblemCodes.PayloadTooLarge,
                    limit.TooLarge));
            }
            buffer.Write(chunk, 0, read);
        }
        var bytes = buffer.ToArray();
        if (ImageSignature.Detect(bytes) is not { } contentType)
        {
            return (null, new Failure(StatusCodes.Status415UnsupportedMediaType, Platform.Errors.ProblemCodes.UnsupportedMediaType,
                "Upload a PNG, JPEG, GIF or WebP image."));
        }
        var limits = options.CurrentValue;
        if (ImageDimensions.Read(bytes, contentType) is not var (width, height))
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, CatalogProblemCodes.ImageInvalid,
                "The image's header cannot be read; upload a complete PNG, JPEG, GIF or WebP file."));
        }
        if (width > limits.MaxImageSide || height > limits.MaxImageSide || (long)width * height > limits.MaxImagePixels)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, CatalogProblemCodes.ImageTooLarge,
                $"Images can be at most {limits.MaxImageSide}×{limits.MaxImageSide} pixels and {limits.MaxImagePixels / 1_000_000.0:0.#} megapixels; this one is {width}×{height}."));
        }
        // Every kept image counts, used or not: an image's url can sit in any Markdown the seller wrote, so nothing here
        // can tell that one is unused. Sellers free room with DELETE. The organization's lock, held until the insert
        // commits, keeps two concurrent uploads from both taking the last slot (ADR-167).
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Database.LockOrganizationAsync(PostgresLockSpace, organizationId, ct);
        var kept = db.CatalogImages.Where(i => i.OrganizationId == organizationId);
        if (await kept.CountAsync(ct) + 1 > limits.MaxImagesPerOrganization
            || await kept.SumAsync(i => (long)i.SizeBytes, ct) + bytes.Length > limits.MaxImageStorageBytesPerOrganization)
        {
            return (null, new Failure(StatusCodes.Status403Forbidden, CatalogProblemCodes.ImageLimitReached,
                $"An organization can keep {limits.MaxImagesPerOrganization} images and {Platform.Ui.ByteSize.Format(limits.MaxImageStorageBytesPerOrganization)} of them; delete images it no longer uses first."));
        }
        var image = new CatalogImage
        {
            OrganizationId = organizationId,
            ContentType = contentType,
            Content = bytes,
            SizeBytes = bytes.Length,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        db.CatalogImages.Add(image);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (image, null);
    }

    /// <summary>
    /// Deletes one of the organization's images, audited; <c>NotFound</c> when it has no such image, <c>InUse</c> when a
    /// listing or the provider's avatar (live or in an edit waiting for review) shows it (ADR-171): deleting it would
    /// blank that listing or profile. Markdown outside listing descriptions is not searched (see <see cref="KeptAsync"/>).
    /// </summary>
    public async Task<DeleteOutcome> DeleteAsync(Guid organizationId, Guid imageId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(db.Database, organizationId, ct);
        var image = await db.CatalogImages.AsNoTracking().Where(i => i.Id == imageId && i.OrganizationId == organizationId).Select(Stored).FirstOrDefaultAsync(ct);
        if (image is null)
        {
            return DeleteOutcome.NotFound;
        }
        var usesOf = await UsesAsync(organizationId, ct);
        if (usesOf(UrlFor(imageId, image.ContentType)).Count > 0)
        {
            return DeleteOutcome.InUse;
        }
        await DeleteAuditedAsync(organizationId, [image], ct);
        await transaction.CommitAsync(ct);
        return DeleteOutcome.Deleted;
    }

    public sealed record UnusedDeleted(int Deleted, long Bytes, int Kept);

    /// <summary>
    /// Deletes every image of the organization that nothing shows (the rule of <see cref="DeleteAsync"/>), each audited as
    /// that one is; what is kept is what something shows.
    /// </summary>
    public async Task<UnusedDeleted> DeleteUnusedAsync(Guid organizationId, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await LockAsync(db.Database, organizationId, ct);
        var images = await db.CatalogImages.AsNoTracking().Where(i => i.OrganizationId == organizationId).Select(Stored).ToListAsync(ct);
        var usesOf = await UsesAsync(organizationId, ct);
        var unused = images.Where(i => usesOf(UrlFor(i.Id, i.ContentType)).Count == 0).ToList();
        await DeleteAuditedAsync(organizationId, unused, ct);
        await transaction.CommitAsync(ct);
        return new UnusedDeleted(unused.Count, unused.Sum(i => (long)i.SizeBytes), images.Count - unused.Count);
    }

    /// <summary>
    /// Holds the organization's images until the caller's transaction ends. Deletes take it before they check what shows an
    /// image, and whatever makes a listing or the avatar show one takes it before it checks the image is still there: so a
    /// delete either sees the new use, or has removed the image before the caller looks and refuses it.
    /// </summary>
    public static Task LockAsync(DatabaseFacade database, Guid organizationId, CancellationToken ct)
    {
        if (database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("The image lock is held until a transaction ends; begin one first.");
        }
        return database.LockOrganizationAsync(PostgresLockSpace, organizationId, ct);
    }

    sealed record StoredImage(Guid Id, string ContentType, int SizeBytes, DateTime CreatedUtc);

    static readonly Expression<Func<CatalogImage, StoredImage>> Stored = i => new StoredImage(i.Id, i.ContentType, i.SizeBytes, i.CreatedUtc);

    /// <summary>Deletes the images and records one <c>catalog_image.deleted</c> per image, in the caller's transaction.</summary>
    async Task DeleteAuditedAsync(Guid organizationId, List<StoredImage> images, CancellationToken ct)
    {
        if (images.Count == 0)
        {
            return;
        }
        var ids = images.Select(i => i.Id).ToList();
        await db.CatalogImages.Where(i => i.OrganizationId == organizationId && ids.Contains(i.Id)).ExecuteDeleteAsync(ct);
        foreach (var image in images)
        {
            audit.Record(AuditActions.CatalogImageDeleted, organizationId, "catalog_image", image.Id,
                before: new { content_type = image.ContentType, size_bytes = image.SizeBytes, created_at = image.CreatedUtc });
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The organization's kept images, newest first, each with the listings and the provider profile that show it: as
    /// a listing's preview, the provider's avatar, or by its url in a listing's description, live or in an edit waiting for
    /// review. Markdown elsewhere (say a changelog) is not searched, so "unused" means unused by these. A fixed number of
    /// queries, however many images and listings (the page and <c>GET /api/catalog-images/</c> both show it).
    /// </summary>
    public async Task<List<KeptImage>> KeptAsync(Guid organizationId, CancellationToken ct)
    {
        var images = await db.CatalogImages.AsNoTracking().Where(i => i.OrganizationId == organizationId)
            .OrderByDescending(i => i.CreatedUtc).Select(i => new { i.Id, i.ContentType, i.SizeBytes, i.CreatedUtc }).ToListAsync(ct);
        if (images.Count == 0)
        {
            return [];
        }
        var usesOf = await UsesAsync(organizationId, ct);
        return [.. images.Select(i =>
        {
            var url = UrlFor(i.Id, i.ContentType);
            return new KeptImage(i.Id, url, i.ContentType, i.SizeBytes, i.CreatedUtc, usesOf(url));
        })];
    }

    /// <summary>Reads what can show the organization's images once, and answers for any image url from that.</summary>
    async Task<Func<string, List<ImageUse>>> UsesAsync(Guid organizationId, CancellationToken ct)
    {
        var listings = await db.Listings.AsNoTracking().Where(l => l.OrganizationId == organizationId)
            .Select(l => new { l.Id, l.Name, l.Slug, l.PreviewImageUrl, l.Description }).ToListAsync(ct);
        // An edit waiting for review (ADR-163) uses its images too: deleting one would break the listing once approved.
        var waitingEdits = await db.ListingChanges.AsNoTracking().Where(c => c.RejectedUtc == null)
            .Join(db.Listings.Where(l => l.OrganizationId == organizationId), c => c.ListingId, l => l.Id,
                (c, l) => new { l.Id, l.Name, l.Slug, c.PreviewImageUrl, c.Description })
            .ToListAsync(ct);
        var avatar = await db.Providers.AsNoTracking().Where(p => p.OrganizationId == organizationId).Select(p => p.AvatarUrl).FirstOrDefaultAsync(ct);
        // So does a profile edit's avatar (ADR-170), kept until approved or withdrawn.
        var waitingAvatar = await db.ProviderProfileChanges.AsNoTracking().Where(c => c.RejectedUtc == null)
            .Join(db.Providers.Where(p => p.OrganizationId == organizationId), c => c.ProviderId, p => p.Id, (c, _) => c.AvatarUrl)
            .FirstOrDefaultAsync(ct);
        return url =>
        {
            var usedBy = listings.Where(l => l.PreviewImageUrl == url || l.Description.Contains(url, StringComparison.Ordinal))
                .Select(l => new ImageUse("listing", l.Id, l.Name, $"/agents/{l.Slug}", WaitingForReview: false))
                .Concat(waitingEdits.Where(e => e.PreviewImageUrl == url || e.Description?.Contains(url, StringComparison.Ordinal) == true)
                    .Select(e => new ImageUse("listing", e.Id, e.Name, $"/agents/{e.Slug}", WaitingForReview: true)))
                .ToList();
            if (avatar == url)
            {
                usedBy.Add(new ImageUse("avatar", null, "Provider avatar", null, WaitingForReview: false));
            }
            if (waitingAvatar == url)
            {
                usedBy.Add(new ImageUse("avatar", null, "Provider avatar", null, WaitingForReview: true));
            }
            return usedBy;
        };
    }

    static string ExtensionFor(string contentType) => contentType switch
    {
        ImageSignature.Png => "png",
        ImageSignature.Jpeg => "jpg",
        ImageSignature.Gif => "gif",
        ImageSignature.Webp => "webp",
        _ => "bin",
    };
}

/// <summary>
/// Recognises the raster formats browsers show safely by their magic bytes. SVG is deliberately absent: it can carry
/// script.
/// </summary>
public static class ImageSignature
{
    public const string Png = "image/png";
    public const string Jpeg = "image/jpeg";
    public const string Gif = "image/gif";
    public const string Webp = "image/webp";

    static ReadOnlySpan<byte> PngMagic => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    static ReadOnlySpan<byte> JpegMagic => [0xFF, 0xD8, 0xFF];

    public static string? Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith(PngMagic))
        {
            return Png;
        }
        if (bytes.StartsWith(JpegMagic))
        {
            return Jpeg;
        }
        if (bytes.StartsWith("GIF87a"u8) || bytes.StartsWith("GIF89a"u8))
        {
            return Gif;
        }
        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return Webp;
        }
        return null;
    }
}
