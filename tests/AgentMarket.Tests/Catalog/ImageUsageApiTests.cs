using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// <c>GET /api/catalog-images/</c> says what shows each image, as the publish page does, and the API refuses to delete
/// an image in use, as the page does (ADR-171).
/// </summary>
public class ImageUsageApiTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task ImageList_SaysWhatShowsEachImage_AndDeletingOneInUse_IsRefusedImageInUse()
    {
        var agent = await app.PublishedAgentAsync();
        var seller = agent.Seller.Client;
        var preview = await UploadAsync(seller);
        var inDescription = await UploadAsync(seller);
        var inWaitingEdit = await UploadAsync(seller);
        var avatar = await UploadAsync(seller);
        var unused = await UploadAsync(seller);
        var listing = $"/api/provider-agents/{agent.AgentId}/listing/";
        // Not live yet: the edit applies at once. Then live, where the next edit waits for the operator (ADR-163).
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync(listing, new { preview_image = preview.Url, description = $"See ![shot]({inDescription.Url})." }));
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync(listing, new { preview_image = inWaitingEdit.Url }));
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = avatar.Uuid.ToString() }));

        var items = (await Http.ReadJsonAsync(await seller.GetAsync("/api/catalog-images/"))).GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("uuid").GetGuid(), i => i.GetProperty("used_by").EnumerateArray().ToList());

        // The live preview is also what the waiting edit replaces, so only the live listing shows it.
        AssertListingUse(Assert.Single(items[preview.Uuid]), agent, waiting: false);
        AssertListingUse(Assert.Single(items[inDescription.Uuid]), agent, waiting: false);
        AssertListingUse(Assert.Single(items[inWaitingEdit.Uuid]), agent, waiting: true);
        var avatarUse = Assert.Single(items[avatar.Uuid]);
        Assert.Equal("avatar", avatarUse.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, avatarUse.GetProperty("listing").ValueKind);
        Assert.Empty(items[unused.Uuid]);

        foreach (var used in new[] { preview, inDescription, inWaitingEdit, avatar })
        {
            await Http.AssertProblemAsync(await seller.DeleteAsync($"/api/catalog-images/{used.Uuid}"), HttpStatusCode.Conflict, "image_in_use");
            await Http.AssertStatusAsync(await app.CreateClient().GetAsync(used.Url), HttpStatusCode.OK);
        }
        var (other, _) = await app.SellerAsync();
        await Http.AssertProblemAsync(await other.Client.DeleteAsync($"/api/catalog-images/{unused.Uuid}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await seller.DeleteAsync($"/api/catalog-images/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertStatusAsync(await seller.DeleteAsync($"/api/catalog-images/{unused.Uuid}"), HttpStatusCode.NoContent);
    }

    static void AssertListingUse(JsonElement use, PublishedAgent agent, bool waiting)
    {
        Assert.Equal("listing", use.GetProperty("kind").GetString());
        Assert.Equal(agent.ListingId, use.GetProperty("listing").GetGuid());
        Assert.Equal(agent.Name, use.GetProperty("name").GetString());
        Assert.Equal(waiting, use.GetProperty("waiting_for_review").GetBoolean());
    }

    static async Task<(Guid Uuid, string Url)> UploadAsync(HttpClient seller)
    {
        var image = await Http.ReadJsonAsync(await seller.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        return (image.GetProperty("uuid").GetGuid(), image.GetProperty("url").GetString()!);
    }
}
