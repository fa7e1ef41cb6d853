using System.Data.Common;
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

    public CountBarrier Barrier { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:MaxImagesPerOrganization", MaxImages.ToString(System.Globalization.CultureInfo.InvariantCulture))];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Barrier));
    }
}

/// <summary>
/// Once armed for an organization, holds each upload's count of that organization's images, after it ran, until the
/// given number of uploads have counted or a short wait has passed: without a lock every upload counts the same images,
/// with one the first upload waits alone and the others count after it committed.
/// </summary>
public sealed class CountBarrier : DbCommandInterceptor
{
    static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    sealed record Armed(Guid Organization, int Parties);

    Armed? _armed;
    int _arrived;
    readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Arm(Guid organization, int parties)
    {
        Volatile.Write(ref _armed, new Armed(organization, parties));
    }

    async Task AfterAsync(DbCommand command)
    {
        if (Volatile.Read(ref _armed) is not { Organization: var organization, Parties: var parties }
            || !command.CommandText.Contains("catalog_images", StringComparison.Ordinal)
            || !command.CommandText.Contains("COUNT", StringComparison.OrdinalIgnoreCase)
            || !command.Parameters.Cast<DbParameter>().Any(p => p.Value is Guid id ? id == organization : p.Value is string text && Guid.TryParse(text, out var parsed) && parsed == organization))
        {
            return;
        }
        if (Interlocked.Increment(ref _arrived) >= parties)
        {
            _all.TrySetResult();
        }
        // A timeout opens the barrier for good: uploads serialised by a lock never all arrive.
        await Task.WhenAny(_all.Task, Task.Delay(Wait));
        _all.TrySetResult();
    }

    public override async ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
    {
        await AfterAsync(command);
        return result;
    }

    public override async ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default)
    {
        await AfterAsync(command);
        return result;
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

        app.Barrier.Arm(seller.OrganizationId, Uploads);
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
