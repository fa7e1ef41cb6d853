using AgentMarket.Identity;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Providers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace AgentMarket.Catalog.Images;

public sealed record ImageResponse(Guid Uuid, string Url, string ContentType, int SizeBytes);

/// <summary>
/// What shows a kept image (ADR-171): <c>listing</c> (its uuid and name; <c>waiting_for_review</c> when only its edit
/// waiting for an operator uses it) or <c>avatar</c> (the provider's, no listing).
/// </summary>
public sealed record ImageUseResponse(string Kind, Guid? Listing, string Name, bool WaitingForReview);

/// <summary>A kept image and what shows it; an image in use cannot be deleted (<c>image_in_use</c>).</summary>
public sealed record KeptImageResponse(Guid Uuid, string Url, string ContentType, int SizeBytes, DateTime Created, IReadOnlyList<ImageUseResponse> UsedBy);

/// <summary>The organization's kept images, newest first, and how much of its quota they use (ADR-162).</summary>
public sealed record ImageListResponse(IReadOnlyList<KeptImageResponse> Items, int Count, long Bytes, int MaxImages, long MaxBytes);

/// <summary>What deleting every unused image did: how many went, the bytes they freed, and how many images are kept.</summary>
public sealed record UnusedImagesDeletedResponse(int Deleted, long Bytes, int Kept);

/// <summary>Image upload for sellers (listing previews, avatars) and public serving at <c>/media/images/{uuid}.{ext}</c>.</summary>
static class ImageEndpoints
{
    public static void MapCatalogImages(this WebApplication app)
    {
        app.MapPost("/api/catalog-images", UploadAsync).WithTags("Publishing").WithName("UploadCatalogImage")
            .RequireOrganization(MembershipRole.Manager).WithUploadLimit(Platform.Ui.UploadKind.Image);
        app.MapGet("/api/catalog-images/", ListAsync).WithTags("Publishing").WithName("ListCatalogImages")
            .RequireOrganization(MembershipRole.Manager);
        app.MapDelete("/api/catalog-images/{uuid:guid}", DeleteAsync).WithTags("Publishing").WithName("DeleteCatalogImage")
            .RequireOrganization(MembershipRole.Manager);
        app.MapPost("/api/catalog-images/delete-unused/", DeleteUnusedAsync).WithTags("Publishing").WithName("DeleteUnusedCatalogImages")
            .WithSummary("Deletes every image nothing uses (audited as DELETE is: one catalog_image.deleted entry per image)")
            .RequireOrganization(MembershipRole.Manager);
        app.MapGet(CatalogImages.RoutePrefix + "/{file}", ServeAsync).ExcludeFromDescription().AllowAnonymous();
    }

    /// <summary>Takes the <c>file</c> part of a multipart form, or the raw body; read by hand, like flow uploads (no antiforgery for API clients).</summary>
    static async Task<IResult> UploadAsync(CatalogImages images, CurrentTenant tenant, HttpContext http, CancellationToken ct)
    {
        Stream content;
        if (http.Request.HasFormContentType)
        {
            var form = await http.Request.ReadFormAsync(ct);
            if ((form.Files.GetFile("file") ?? (form.Files.Count > 0 ? form.Files[0] : null)) is not { } file)
            {
                return ApiProblem.Invalid("file", "Send the image as the 'file' part of a multipart form, or as the request body.");
            }
            content = file.OpenReadStream();
        }
        else
        {
            content = http.Request.Body;
        }
        await using (content)
        {
            var (image, failure) = await images.StoreAsync(tenant.RequiredOrganizationId, content, ct);
            return failure is not null
                ? ApiProblem.Create(failure.Status, failure.Code, failure.Message)
                : TypedResults.Created(image!.Url, new ImageResponse(image.Id, image.Url, image.ContentType, image.SizeBytes));
        }
    }

    static async Task<Ok<ImageListResponse>> ListAsync(CurrentTenant tenant, CatalogImages images, IOptionsMonitor<MarketplaceOptions> options, CancellationToken ct)
    {
        var kept = await images.KeptAsync(tenant.RequiredOrganizationId, ct);
        var items = kept.Select(i => new KeptImageResponse(i.Id, i.Url, i.ContentType, i.SizeBytes, i.CreatedUtc,
            [.. i.UsedBy.Select(u => new ImageUseResponse(u.Kind, u.ListingId, u.Name, u.WaitingForReview))])).ToList();
        var limits = options.CurrentValue;
        return TypedResults.Ok(new ImageListResponse(items, items.Count, items.Sum(i => (long)i.SizeBytes),
            limits.MaxImagesPerOrganization, limits.MaxImageStorageBytesPerOrganization));
    }

    /// <summary>
    /// Deletes one of the organization's images to free room under its quota (ADR-162), audited (ADR-167); one a listing
    /// or the avatar shows is refused, as on the publish page (ADR-171).
    /// </summary>
    static async Task<IResult> DeleteAsync(Guid uuid, CurrentTenant tenant, CatalogImages images, CancellationToken ct) =>
        await images.DeleteAsync(tenant.RequiredOrganizationId, uuid, ct) switch
        {
            CatalogImages.DeleteOutcome.Deleted => TypedResults.NoContent(),
            CatalogImages.DeleteOutcome.InUse => ApiProblem.Conflict(CatalogProblemCodes.ImageInUse,
                "A listing (live or in an edit waiting for review) or the provider's avatar shows this image; give it another image first."),
            _ => ApiProblem.NotFound("image"),
        };

    /// <summary>
    /// Deletes, in one go, every image of the organization that nothing uses (the rule of <c>DELETE</c>: ADR-171), to free
    /// its quota; 200 with <c>deleted</c> 0 when there is none.
    /// </summary>
    static async Task<Ok<UnusedImagesDeletedResponse>> DeleteUnusedAsync(CurrentTenant tenant, CatalogImages images, CancellationToken ct)
    {
        var done = await images.DeleteUnusedAsync(tenant.RequiredOrganizationId, ct);
        return TypedResults.Ok(new UnusedImagesDeletedResponse(done.Deleted, done.Bytes, done.Kept));
    }

    static async Task<IResult> ServeAsync(string file, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        if (!Guid.TryParse(Path.GetFileNameWithoutExtension(file), out var id))
        {
            return TypedResults.NotFound();
        }
        var image = await db.CatalogImages.AsNoTracking().Where(i => i.Id == id).Select(i => new { i.Content, i.ContentType }).FirstOrDefaultAsync(ct);
        if (image is null)
        {
            return TypedResults.NotFound();
        }
        // Images never change under an id, so caches may keep them; nosniff and a null CSP keep a crafted file inert.
        http.Response.Headers[HeaderNames.CacheControl] = "public, max-age=31536000, immutable";
        http.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        http.Response.Headers[HeaderNames.ContentSecurityPolicy] = "default-src 'none'; sandbox";
        return TypedResults.File(image.Content, image.ContentType);
    }
}
