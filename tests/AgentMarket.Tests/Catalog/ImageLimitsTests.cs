using System.Net;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

/// <summary>A small image quota, so it can be reached in a test.</summary>
public sealed class LimitedImagesApp : AgentMarketApp
{
    public const int MaxImages = 3;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:MaxImagesPerOrganization", MaxImages.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>Uploaded images are bounded in the pixels they declare and in how many an organization keeps (ADR-162).</summary>
public class ImageLimitsTests(LimitedImagesApp app) : IClassFixture<LimitedImagesApp>
{
    public static TheoryData<string, string> Formats => new()
    {
        { "png", "image/png" },
        { "gif", "image/gif" },
        { "jpeg", "image/jpeg" },
        { "webp", "image/webp" },
    };

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Upload_DeclaringHugeDimensions_IsRefusedImageTooLarge_WhileTheSameFileAtASmallSizePasses(string format, string contentType)
    {
        var (seller, _) = await app.SellerAsync();
        // GIF and JPEG store each side in 16 bits, so their largest declarable picture stands in for 100000×100000.
        var huge = format is "gif" or "jpeg" ? ushort.MaxValue : 100_000;

        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(Images.Declaring(format, huge, huge), "bomb", contentType)),
            HttpStatusCode.BadRequest, "image_too_large");
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(Images.Declaring(format, 64, huge), "tall", contentType)),
            HttpStatusCode.BadRequest, "image_too_large");

        var small = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(Images.Declaring(format, 64, 48), "small", contentType)),
            HttpStatusCode.Created);
        Assert.Equal(contentType, small.GetProperty("content_type").GetString());
        var kept = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"));
        Assert.Equal([small.GetProperty("uuid").GetGuid()], kept.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("uuid").GetGuid()).ToArray());
    }

    [Fact]
    public async Task Upload_WithAnUnreadableHeader_IsRefusedImageInvalid()
    {
        var (seller, _) = await app.SellerAsync();
        var truncated = Images.OnePixelPng[..12];

        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(truncated, "cut.png", "image/png")),
            HttpStatusCode.BadRequest, "image_invalid");
    }

    [Fact]
    public async Task Upload_PastTheOrganizationsImageCap_IsRefused_UntilItDeletesOne()
    {
        var (seller, _) = await app.SellerAsync();
        var uploaded = new List<Guid>();
        for (var i = 0; i < LimitedImagesApp.MaxImages; i++)
        {
            var image = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
            uploaded.Add(image.GetProperty("uuid").GetGuid());
        }

        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Forbidden, "image_limit_reached");
        var kept = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"));
        Assert.Equal(LimitedImagesApp.MaxImages, kept.GetProperty("count").GetInt32());
        Assert.Equal(LimitedImagesApp.MaxImages, kept.GetProperty("max_images").GetInt32());

        // The cap is the organization's own: another seller still uploads, and cannot delete this one's images.
        var (other, _) = await app.SellerAsync();
        await Http.AssertStatusAsync(await other.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        await Http.AssertProblemAsync(await other.Client.DeleteAsync($"/api/catalog-images/{uploaded[0]}"), HttpStatusCode.NotFound, "not_found");

        await Http.AssertStatusAsync(await seller.Client.DeleteAsync($"/api/catalog-images/{uploaded[0]}"), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/media/images/{uploaded[0]}.png"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
    }
}
