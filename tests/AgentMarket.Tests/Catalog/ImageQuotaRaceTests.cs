using System.Net;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Catalog;

/// <summary>A small image quota, and a barrier that lets concurrent uploads of one organization count together.</summary>
public sealed class ImageRaceApp : AgentMarketApp
{
    public const int MaxImages = 3;

    public QueryBarrier Barrier { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:MaxImagesPerOrganization", MaxImages.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Barrier));
    }
}

/// <summary>Concurrent uploads at the organization's image cap: exactly one takes the last slot (ADR-167).</summary>
public class ImageQuotaRaceTests(ImageRaceApp app) : IClassFixture<ImageRaceApp>
{
    [Fact]
    public async Task ParallelUploads_ForTheLastSlot_StoreExactlyOne_AndRefuseTheRest()
    {
        const int Uploads = 4;
        var (seller, _) = await app.SellerAsync();
        for (var i = 0; i < ImageRaceApp.MaxImages - 1; i++)
        {
            await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        }

        // Each upload's count of the organization's images.
        app.Barrier.Arm(command => command.CommandText.Contains("catalog_images", StringComparison.Ordinal)
            && command.CommandText.Contains("COUNT", StringComparison.OrdinalIgnoreCase) && QueryBarrier.HasParameter(command, seller.OrganizationId), Uploads);
        var responses = await Task.WhenAll(Enumerable.Range(0, Uploads).Select(_ => seller.Client.PostAsync("/api/catalog-images/", Images.Png())));

        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.Created))
        {
            await Http.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "image_limit_reached");
        }
        var kept = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"));
        Assert.Equal(ImageRaceApp.MaxImages, kept.GetProperty("count").GetInt32());
    }
}
