using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// What sellers and operators read of a live listing's review on the pages (ADR-163, ADR-169): that an edit waits, what
/// was rejected and when, the images compared as pictures, and nothing withdrawn shown as current.
/// </summary>
public class ListingReviewPagesTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task AProposedPreviewImage_IsAThumbnailForTheOperator_AndLabelledAsProposedForTheSeller()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var image = (await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { preview_image = image.ToString() }));
        var url = own.GetProperty("pending_change").GetProperty("preview_image").GetString()!;
        Assert.StartsWith("/", url, StringComparison.Ordinal);

        foreach (var page in new[] { "/admin", $"/admin/listings/{agent.ListingId}" })
        {
            var html = await operatorClient.HtmlAsync(page);
            Assert.Contains($"<img class=\"change-thumb\" src=\"{url}\" alt=\"Proposed preview image\"", html, StringComparison.Ordinal);
        }

        var publish = await agent.Seller.Client.HtmlAsync($"/provider/agents/{agent.AgentId}/publish");
        Assert.Contains($"src=\"{url}\" alt=\"Proposed preview (waiting for review)\"", publish, StringComparison.Ordinal);
        Assert.DoesNotContain("alt=\"Current preview\"", publish, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SavingALiveListingOnItsPage_SaysTheEditWaits_AndTheOverviewAndAgentsListShowIt()
    {
        var (agent, _) = await app.LiveListingAsync();
        var listingUrl = $"/provider/agents/{agent.AgentId}/publish";
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));

        var saved = await agent.Seller.Client.SubmitAsync(listingUrl, "publish-listing", new()
        {
            ["slug"] = agent.Slug,
            ["category"] = own.GetProperty("category").GetString()!,
            ["short_description"] = $"Reworded {CatalogIntents.UniqueWord()}",
            ["description"] = own.GetProperty("description").GetString()!,
            ["tags"] = string.Join(", ", own.GetProperty("tags").EnumerateArray().Select(t => t.GetString())),
            ["pricing_model"] = own.GetProperty("pricing").GetProperty("model").GetString()!,
            ["credits_per_run"] = own.GetProperty("pricing").GetProperty("credits_per_run").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["visibility"] = "public",
        });
        var overviewUrl = PageForms.AssertRedirect(saved, $"/provider/agents/{agent.AgentId}?done=");

        var overview = await agent.Seller.Client.HtmlAsync(overviewUrl);
        Assert.Contains("waits for an operator's review", overview, StringComparison.Ordinal);
        Assert.DoesNotContain("Listing updated.", overview, StringComparison.Ordinal);
        Assert.Contains($"<a class=\"badge badge-warn\" href=\"{listingUrl}\" data-change-state>edit waiting for review</a>", overview, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{listingUrl}\" data-change-state>edit waiting for review</a>", await agent.Seller.Client.HtmlAsync("/provider/agents"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenamingALiveAgent_SaysTheNameWaits_AndAfterWithdrawingThePagesShowTheLiveName()
    {
        var (agent, _) = await app.LiveListingAsync();
        var newName = $"Renamed {CatalogIntents.UniqueWord()}";
        var overviewUrl = $"/provider/agents/{agent.AgentId}";
        var listingUrl = $"{overviewUrl}/publish";

        var renamed = await agent.Seller.Client.SubmitAsync(overviewUrl, "agent-details", new() { ["name"] = newName, ["description"] = "", ["category"] = "assistants" });
        var overview = await agent.Seller.Client.HtmlAsync(PageForms.AssertRedirect(renamed, $"{overviewUrl}?done="));
        Assert.Contains("The new name waits for an operator's review", overview, StringComparison.Ordinal);
        Assert.DoesNotContain(">Saved.<", overview, StringComparison.Ordinal);

        var withdrawn = await agent.Seller.Client.SubmitAsync(listingUrl, "withdraw-change");
        var page = await agent.Seller.Client.HtmlAsync(PageForms.AssertRedirect(withdrawn, listingUrl));
        Assert.Contains("Edit withdrawn: buyers keep seeing the approved listing.", page, StringComparison.Ordinal);
        Assert.DoesNotContain(newName, page, StringComparison.Ordinal);
        Assert.Contains(agent.Name, page, StringComparison.Ordinal);

        // The overview's heading and form show the live name, so saving the form does not propose the withdrawn one again.
        overview = await agent.Seller.Client.HtmlAsync(overviewUrl);
        Assert.DoesNotContain(newName, overview, StringComparison.Ordinal);
        Assert.Contains($"<input id=\"agent-name\" name=\"name\" value=\"{agent.Name}\"", overview, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARejectedEdit_SaysWhenWithTheNoteOnce_ListsWhatWasProposed_AndTheFormCanStartFromIt()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var proposed = $"Buy crypto {CatalogIntents.UniqueWord()}.";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = proposed }));
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = "Describe the agent, not an offer." }),
            HttpStatusCode.NoContent);
        var rejected = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("rejected_change");
        var when = rejected.GetProperty("rejected").GetDateTime().ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);

        var listingUrl = $"/provider/agents/{agent.AgentId}/publish";
        var page = await agent.Seller.Client.HtmlAsync(listingUrl);
        var notice = page[page.IndexOf("data-rejected-change", StringComparison.Ordinal)..];
        notice = notice[..notice.IndexOf("</section>", StringComparison.Ordinal)];
        Assert.Contains($"rejected {when} UTC", notice, StringComparison.Ordinal);
        Assert.DoesNotContain("..", Regex.Replace(notice, "<[^>]+>", ""), StringComparison.Ordinal);
        Assert.Contains($"<dd>{proposed}</dd>", notice, StringComparison.Ordinal);
        Assert.Contains("value=\"Answers questions politely.\"", page, StringComparison.Ordinal);

        Assert.Contains($"href=\"{listingUrl}?from=rejected#listing-summary\"", notice, StringComparison.Ordinal);
        var startFrom = await agent.Seller.Client.HtmlAsync($"{listingUrl}?from=rejected");
        Assert.Contains($"name=\"short_description\" value=\"{proposed}\"", startFrom, StringComparison.Ordinal);

        var overview = await agent.Seller.Client.HtmlAsync($"/provider/agents/{agent.AgentId}");
        Assert.Contains($"<a class=\"badge badge-error\" href=\"{listingUrl}\" data-change-state>edit rejected</a>", overview, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{listingUrl}\" data-change-state>edit rejected</a>", await agent.Seller.Client.HtmlAsync("/provider/agents"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartingFromARejectedEdit_ProposesItsNameAndPreviewAgain_WithTheRestInOneSave()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var image = (await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var name = $"Renamed {CatalogIntents.UniqueWord()}";
        var summary = $"Reworded {CatalogIntents.UniqueWord()}";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { name }));
        var previewUrl = (await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent),
            new { short_description = summary, preview_image = image.ToString() }))).GetProperty("pending_change").GetProperty("preview_image").GetString()!;
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = "Not this name." }),
            HttpStatusCode.NoContent);

        var listingUrl = $"/provider/agents/{agent.AgentId}/publish";
        Assert.DoesNotContain("name=\"propose_name\"", await agent.Seller.Client.HtmlAsync(listingUrl), StringComparison.Ordinal);
        var startFrom = await agent.Seller.Client.HtmlAsync($"{listingUrl}?from=rejected");
        Assert.Contains($"name=\"propose_name\" value=\"true\" checked /> Propose the name “{name}” again", startFrom, StringComparison.Ordinal);
        Assert.Contains($"src=\"{previewUrl}\" alt=\"Your rejected preview\"", startFrom, StringComparison.Ordinal);
        Assert.Contains("name=\"propose_preview\" value=\"true\" checked", startFrom, StringComparison.Ordinal);

        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));
        var saved = await agent.Seller.Client.SubmitFromPageAsync($"{listingUrl}?from=rejected", startFrom, "publish-listing", new(FormOf(own))
        {
            ["short_description"] = summary,
            ["propose_name"] = "true",
            ["propose_preview"] = "true",
        });
        PageForms.AssertRedirect(saved, $"/provider/agents/{agent.AgentId}?done=listing-review");

        var pending = (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("pending_change");
        Assert.Equal(name, pending.GetProperty("name").GetString());
        Assert.Equal(summary, pending.GetProperty("short_description").GetString());
        Assert.Equal(previewUrl, pending.GetProperty("preview_image").GetString());
        Assert.Equal(name, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/"))).GetProperty("name").GetString());
        Assert.Equal(agent.Name, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/marketplace/agents/{agent.Slug}"))).GetProperty("name").GetString());
    }

    [Fact]
    public async Task ARejectedRemovalOfThePreview_StartsTheFormTicked_AndTheFormRemovesAPreviewThroughReview()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var image = (await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { preview_image = image.ToString() }));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { preview_image = "" }));
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = "Keep a preview." }),
            HttpStatusCode.NoContent);

        var listingUrl = $"/provider/agents/{agent.AgentId}/publish";
        Assert.Contains("name=\"remove_preview\" value=\"true\" /> Remove the preview image", await agent.Seller.Client.HtmlAsync(listingUrl), StringComparison.Ordinal);
        var startFrom = await agent.Seller.Client.HtmlAsync($"{listingUrl}?from=rejected");
        Assert.Contains("name=\"remove_preview\" value=\"true\" checked /> Remove the preview image", startFrom, StringComparison.Ordinal);
        Assert.DoesNotContain("propose_name", startFrom, StringComparison.Ordinal);

        // A refused form comes back with the boxes as the seller left them, not as the page first ticked them.
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));
        var both = await agent.Seller.Client.SubmitWithFileAsync(listingUrl, "publish-listing",
            new(FormOf(own)) { ["remove_preview"] = "true" }, "image", Images.OnePixelPng, "new.png");
        var refused = await both.HtmlAsync();
        Assert.Contains("Choose a new preview image or remove it, not both.", refused, StringComparison.Ordinal);
        Assert.Contains("name=\"remove_preview\" value=\"true\" checked /> Remove the preview image", refused, StringComparison.Ordinal);
        var badSlug = await agent.Seller.Client.SubmitFromPageAsync($"{listingUrl}?from=rejected", startFrom, "publish-listing", new(FormOf(own)) { ["slug"] = "Not a slug" });
        refused = await badSlug.HtmlAsync();
        Assert.Contains("Use 2–80 lower-case letters", refused, StringComparison.Ordinal);
        Assert.Contains("name=\"remove_preview\" value=\"true\" /> Remove the preview image", refused, StringComparison.Ordinal);

        var saved = await agent.Seller.Client.SubmitFromPageAsync($"{listingUrl}?from=rejected", startFrom, "publish-listing", new(FormOf(own)) { ["remove_preview"] = "true" });
        PageForms.AssertRedirect(saved, $"/provider/agents/{agent.AgentId}?done=listing-review");
        Assert.Equal("", (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("pending_change").GetProperty("preview_image").GetString());
        Assert.Contains("Removing the preview image waits for review.", await agent.Seller.Client.HtmlAsync(listingUrl), StringComparison.Ordinal);
    }

    /// <summary>The listing form's fields as the page fills them from the listing <paramref name="own"/>, unchanged.</summary>
    static Dictionary<string, string> FormOf(JsonElement own) => new()
    {
        ["slug"] = own.GetProperty("slug").GetString()!,
        ["category"] = own.GetProperty("category").GetString()!,
        ["short_description"] = own.GetProperty("short_description").GetString()!,
        ["description"] = own.GetProperty("description").GetString()!,
        ["tags"] = string.Join(", ", own.GetProperty("tags").EnumerateArray().Select(t => t.GetString())),
        ["pricing_model"] = own.GetProperty("pricing").GetProperty("model").GetString()!,
        ["credits_per_run"] = own.GetProperty("pricing").GetProperty("credits_per_run").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["visibility"] = "public",
    };
}
