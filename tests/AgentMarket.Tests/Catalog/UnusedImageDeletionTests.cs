using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// <c>POST /api/catalog-images/delete-unused/</c> and the publish page's "Delete all unused images" delete every image of
/// the organization that nothing shows, by the single delete's rule (ADR-171), each audited as that one is.
/// </summary>
public class UnusedImageDeletionTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    const string DeleteUnused = "/api/catalog-images/delete-unused/";

    [Fact]
    public async Task DeleteUnused_DeletesWhatNothingShows_KeepsLivePreviewWaitingEditAndAvatar_AndOtherOrganizationsImages()
    {
        var agent = await app.PublishedAgentAsync();
        var seller = agent.Seller.Client;
        var preview = await UploadAsync(seller);
        var inWaitingEdit = await UploadAsync(seller);
        var avatar = await UploadAsync(seller);
        var unused = new[] { await UploadAsync(seller), await UploadAsync(seller) };
        var listing = $"/api/provider-agents/{agent.AgentId}/listing/";
        // Not live yet: the preview applies at once. Then live, where the next edit waits for the operator (ADR-163).
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync(listing, new { preview_image = preview.Url }));
        await Http.AssertStatusAsync(await (await app.OperatorAsync()).PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync(listing, new { preview_image = inWaitingEdit.Url }));
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = avatar.Uuid.ToString() }));
        var (other, _) = await app.SellerAsync();
        var othersUnused = await UploadAsync(other.Client);

        var done = await Http.ReadJsonAsync(await seller.PostAsync(DeleteUnused, null));

        Assert.Equal(2, done.GetProperty("deleted").GetInt32());
        Assert.Equal(2 * Images.OnePixelPng.Length, done.GetProperty("bytes").GetInt64());
        Assert.Equal(3, done.GetProperty("kept").GetInt32());
        var anonymous = app.CreateClient();
        foreach (var gone in unused)
        {
            await Http.AssertStatusAsync(await anonymous.GetAsync(gone.Url), HttpStatusCode.NotFound);
        }
        foreach (var used in new[] { preview, inWaitingEdit, avatar, othersUnused })
        {
            await Http.AssertStatusAsync(await anonymous.GetAsync(used.Url), HttpStatusCode.OK);
        }
        var audit = await Http.ReadJsonAsync(await seller.GetAsync($"/api/organizations/{agent.Seller.OrganizationId}/audit/?action=catalog_image.deleted"));
        Assert.Equal(unused.Select(i => i.Uuid).Order(), audit.GetProperty("items").EnumerateArray().Select(e => Guid.Parse(e.GetProperty("target").GetProperty("id").GetString()!)).Order());

        var again = await Http.ReadJsonAsync(await seller.PostAsync(DeleteUnused, null));
        Assert.Equal(0, again.GetProperty("deleted").GetInt32());
        Assert.Equal(0, again.GetProperty("bytes").GetInt64());
        Assert.Equal(3, again.GetProperty("kept").GetInt32());
    }

    [Fact]
    public async Task DeleteUnused_ByAMember_IsForbidden_AndDeletesNothing()
    {
        var (seller, _) = await app.SellerAsync();
        var image = await UploadAsync(seller.Client);
        var member = await app.JoinAsync(seller, "member");

        await Http.AssertProblemAsync(await member.Client.PostAsync(DeleteUnused, null), HttpStatusCode.Forbidden, "insufficient_role");

        await Http.AssertStatusAsync(await app.CreateClient().GetAsync(image.Url), HttpStatusCode.OK);
    }

    [Fact]
    public async Task PublishPage_DeleteAllUnusedButton_SaysWhatGoes_DeletesIt_AndSaysWhatWasFreed()
    {
        var agent = await app.PublishedAgentAsync();
        var seller = agent.Seller.Client;
        var preview = await UploadAsync(seller);
        var unused = new[] { await UploadAsync(seller), await UploadAsync(seller) };
        await Http.ReadJsonAsync(await seller.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { preview_image = preview.Url }));
        var page = $"/provider/agents/{agent.AgentId}/publish";
        var twoImages = $"{2 * Images.OnePixelPng.Length} B";
        Assert.Contains($"Delete all 2 unused images ({twoImages})", await seller.HtmlAsync(page), StringComparison.Ordinal);

        var location = PageForms.AssertRedirect(await seller.SubmitAsync(page, "delete-unused-images"), page);

        var after = await seller.HtmlAsync(location);
        Assert.Contains($"Deleted 2 images, {twoImages} freed.", after, StringComparison.Ordinal);
        Assert.DoesNotContain("Delete all", after, StringComparison.Ordinal);
        Assert.Contains($"data-image=\"{preview.Uuid}\"", after, StringComparison.Ordinal);
        foreach (var gone in unused)
        {
            Assert.DoesNotContain($"data-image=\"{gone.Uuid}\"", after, StringComparison.Ordinal);
        }
    }

    internal static async Task<(Guid Uuid, string Url)> UploadAsync(HttpClient seller)
    {
        var image = await Http.ReadJsonAsync(await seller.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        return (image.GetProperty("uuid").GetGuid(), image.GetProperty("url").GetString()!);
    }
}

/// <summary>Deleting unused images frees the organization's quota (ADR-162).</summary>
public class UnusedImageQuotaTests(LimitedImagesApp app) : IClassFixture<LimitedImagesApp>
{
    [Fact]
    public async Task DeleteUnused_AtTheImageCap_FreesRoom_SoTheNextUploadSucceeds()
    {
        var (seller, _) = await app.SellerAsync();
        for (var i = 0; i < LimitedImagesApp.MaxImages; i++)
        {
            await UnusedImageDeletionTests.UploadAsync(seller.Client);
        }
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Forbidden, "image_limit_reached");

        var done = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/delete-unused/", null));

        Assert.Equal(LimitedImagesApp.MaxImages, done.GetProperty("deleted").GetInt32());
        Assert.Equal(0, done.GetProperty("kept").GetInt32());
        await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
    }
}

/// <summary>
/// An image being made the avatar or a listing's preview while every unused image is deleted: either it is kept and
/// shown, or it is gone and the edit is refused; never a profile or listing naming a deleted image.
/// </summary>
public class UnusedImageDeletionRaceTests(ImageRaceApp app) : IClassFixture<ImageRaceApp>
{
    [Fact]
    public async Task DeleteUnused_WhileTheImageBecomesTheAvatar_NeverLeavesTheAvatarOnADeletedImage()
    {
        var (seller, _) = await app.SellerAsync();
        var image = await UnusedImageDeletionTests.UploadAsync(seller.Client);

        var (deleted, edited) = await RaceAsync(seller, image.Uuid,
            () => seller.Client.PatchAsJsonAsync("/api/providers/mine", new { avatar_image = image.Uuid.ToString() }));

        if (await KeptAsync(image.Url, deleted, edited, "avatar_image"))
        {
            var provider = await Http.ReadJsonAsync(edited);
            var pending = provider.GetProperty("pending_change");
            Assert.Equal(image.Url, (pending.ValueKind == JsonValueKind.Null ? provider : pending).GetProperty("avatar_url").GetString());
        }
    }

    [Fact]
    public async Task DeleteUnused_WhileTheImageBecomesAListingsPreview_NeverLeavesThePreviewOnADeletedImage()
    {
        var agent = await app.PublishedAgentAsync();
        var image = await UnusedImageDeletionTests.UploadAsync(agent.Seller.Client);
        var listing = $"/api/provider-agents/{agent.AgentId}/listing/";

        var (deleted, edited) = await RaceAsync(agent.Seller, image.Uuid,
            () => agent.Seller.Client.PatchAsJsonAsync(listing, new { preview_image = image.Uuid.ToString() }));

        if (await KeptAsync(image.Url, deleted, edited, "preview_image"))
        {
            Assert.Equal(image.Url, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(listing))).GetProperty("preview_image").GetString());
        }
    }

    /// <summary>
    /// Deletes the unused images while <paramref name="attach"/> gives <paramref name="image"/> a use. Both sides pause
    /// after their check: the delete once it has read what uses the images (the profile edits are its last read), the edit
    /// once it has found the image still there.
    /// </summary>
    async Task<(int Deleted, HttpResponseMessage Edited)> RaceAsync(TestUser seller, Guid image, Func<Task<HttpResponseMessage>> attach)
    {
        app.Barrier.Arm(command => QueryBarrier.HasParameter(command, seller.OrganizationId)
            && command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            && (command.CommandText.Contains("provider_profile_changes", StringComparison.Ordinal)
                || (command.CommandText.Contains("catalog_images", StringComparison.Ordinal) && QueryBarrier.HasParameter(command, image))), 2);
        var deleting = seller.Client.PostAsync("/api/catalog-images/delete-unused/", null);
        var editing = attach();
        await Task.WhenAll(deleting, editing);
        return ((await Http.ReadJsonAsync(await deleting)).GetProperty("deleted").GetInt32(), await editing);
    }

    /// <summary>Whether the image survived; when it did not, the edit must have been refused on <paramref name="field"/>.</summary>
    async Task<bool> KeptAsync(string url, int deleted, HttpResponseMessage edited, string field)
    {
        var served = await app.CreateClient().GetAsync(url);
        if (deleted == 1)
        {
            await Http.AssertProblemAsync(edited, HttpStatusCode.BadRequest, "validation_failed");
            Assert.Contains(field, await edited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            await Http.AssertStatusAsync(served, HttpStatusCode.NotFound);
            return false;
        }
        await Http.AssertStatusAsync(served, HttpStatusCode.OK);
        return true;
    }
}
