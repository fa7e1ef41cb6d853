using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// With auto-approval off, an edit of what buyers read of a live listing waits for an operator: buyers keep reading the
/// approved listing, its provider sees the pending edit, and the operator approves or rejects it (ADR-163).
/// </summary>
public class LiveListingEditTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    static readonly string[] CryptoTags = ["crypto"];

    [Fact]
    public async Task RenamingALiveListing_WaitsForTheOperator_WhoseApprovalMakesTheNewNamePublic()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var newName = $"Renamed agent {CatalogIntents.UniqueWord()}";

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}", new { name = newName }));
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Now with more words.", pricing = new { model = "fixed_credits", credits_per_run = 3 } }));

        // Buyers read the approved listing; the price (not presentation) changed at once.
        var card = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"));
        Assert.Equal(agent.Name, card.GetProperty("name").GetString());
        Assert.Equal("Answers questions politely.", card.GetProperty("description").GetString());
        var page = await app.CreateClient().GetStringAsync($"/agents/{agent.Slug}");
        Assert.Contains(agent.Name, page, StringComparison.Ordinal);
        Assert.DoesNotContain(newName, page, StringComparison.Ordinal);

        // The provider sees what waits.
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));
        Assert.Equal(agent.Name, own.GetProperty("name").GetString());
        Assert.Equal(3, own.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        var pending = own.GetProperty("pending_change");
        Assert.Equal((newName, "Now with more words."), (pending.GetProperty("name").GetString(), pending.GetProperty("short_description").GetString()));
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("description").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, pending.GetProperty("submitted").ValueKind);
        Assert.Contains("waits for review", await agent.Seller.Client.GetStringAsync($"/provider/agents/{agent.AgentId}/publish"), StringComparison.Ordinal);

        // The operator's queue lists it beside first publications, with the live and proposed value of each field.
        var queue = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/listings/?limit=200"));
        Assert.Contains(queue.GetProperty("items").EnumerateArray(), l => l.GetProperty("uuid").GetGuid() == agent.ListingId
            && l.GetProperty("state").GetString() == "active" && l.GetProperty("change_submitted").ValueKind == JsonValueKind.String);
        var details = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{agent.ListingId}"));
        var fields = details.GetProperty("pending_change").GetProperty("fields").EnumerateArray()
            .ToDictionary(f => f.GetProperty("field").GetString()!, f => (f.GetProperty("live").GetString(), f.GetProperty("proposed").GetString()));
        Assert.Equal((agent.Name, newName), fields["name"]);
        Assert.Equal(("Answers questions politely.", "Now with more words."), fields["short_description"]);
        Assert.Equal(2, fields.Count);

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/approve/",
            new { revision = details.GetProperty("revision").GetString() }), HttpStatusCode.NoContent);
        card = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"));
        Assert.Equal((newName, "Now with more words."), (card.GetProperty("name").GetString(), card.GetProperty("description").GetString()));
        Assert.Contains(newName, await app.CreateClient().GetStringAsync($"/agents/{agent.Slug}"), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("pending_change").ValueKind);
        Assert.Equal("active", (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{agent.ListingId}"))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task RejectingAnEdit_KeepsTheLiveListing_AndTheProviderReadsTheNote()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { description = "Buy crypto here.", tags = CryptoTags }));

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = "Describe the agent, not an offer." }),
            HttpStatusCode.NoContent);

        var card = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"));
        Assert.DoesNotContain("crypto", card.GetRawText(), StringComparison.Ordinal);
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));
        Assert.Equal(("active", JsonValueKind.Null), (own.GetProperty("state").GetString(), own.GetProperty("pending_change").ValueKind));
        var rejected = own.GetProperty("rejected_change");
        Assert.Equal(("Describe the agent, not an offer.", "Buy crypto here."), (rejected.GetProperty("moderation_note").GetString(), rejected.GetProperty("description").GetString()));
        Assert.Contains("Describe the agent, not an offer.", await agent.Seller.Client.GetStringAsync($"/provider/agents/{agent.AgentId}/publish"), StringComparison.Ordinal);

        // Nothing is left to decide; the provider's next edit replaces the rejected one.
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.Conflict, "listing_state_conflict");
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Answers questions, politely." }));
        own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)));
        Assert.Equal(JsonValueKind.Null, own.GetProperty("rejected_change").ValueKind);
        Assert.Equal(JsonValueKind.Null, own.GetProperty("pending_change").GetProperty("description").ValueKind);
    }

    [Fact]
    public async Task ApprovingAnEditTheProviderChangedSince_Is409ListingChanged_AndTheCurrentOneIsApproved()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var url = $"/api/admin/listings/{agent.ListingId}";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "First wording." }));
        var reviewed = (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("revision").GetString();

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { description = "Now it also sells crypto." }));
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"{url}/approve/", new { revision = reviewed }), HttpStatusCode.Conflict, "listing_changed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"{url}/reject/", new { reason = "No.", revision = reviewed }), HttpStatusCode.Conflict, "listing_changed");
        Assert.Equal("Answers questions politely.", (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"))).GetProperty("description").GetString());

        // The later edit amended the pending one: approved as read now, both apply.
        var current = (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("revision").GetString();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"{url}/approve/", new { revision = current }), HttpStatusCode.NoContent);
        var card = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"));
        Assert.Equal(("First wording.", "Now it also sells crypto."), (card.GetProperty("description").GetString(), card.GetProperty("long_description").GetString()));
    }

    [Fact]
    public async Task WithdrawnEditsAndBadRequests_AreRefusedWithTheirCodes()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var (other, _) = await app.SellerAsync();
        await Http.AssertProblemAsync(await agent.Seller.Client.DeleteAsync($"{LiveListings.OwnListing(agent)}pending-change"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.Conflict, "listing_state_conflict");
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{Guid.NewGuid()}/approve/", null), HttpStatusCode.NotFound, "not_found");

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Withdrawn wording." }));
        // Another organization can neither edit, read nor withdraw it; an invalid edit is refused and leaves it as it was.
        await Http.AssertProblemAsync(await other.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = "Hijacked." }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await other.Client.DeleteAsync($"{LiveListings.OwnListing(agent)}pending-change"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = " " }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { category = "no-such-category" }), HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("Withdrawn wording.", (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(LiveListings.OwnListing(agent)))).GetProperty("pending_change").GetProperty("short_description").GetString());

        var withdrawn = await Http.ReadJsonAsync(await agent.Seller.Client.DeleteAsync($"{LiveListings.OwnListing(agent)}pending-change"));
        Assert.Equal(JsonValueKind.Null, withdrawn.GetProperty("pending_change").ValueKind);
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.Conflict, "listing_state_conflict");
        var queue = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/listings/?limit=200"));
        Assert.DoesNotContain(queue.GetProperty("items").EnumerateArray(), l => l.GetProperty("uuid").GetGuid() == agent.ListingId);
        Assert.Equal("Answers questions politely.", (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"))).GetProperty("description").GetString());
    }

    [Fact]
    public async Task TheConsole_ListsTheEditWithLiveAndProposedValues_AndApprovesIt()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var proposed = $"Proposed summary {CatalogIntents.UniqueWord()}";
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { short_description = proposed }));

        var queue = await operatorClient.HtmlAsync("/admin");
        Assert.Contains(proposed, queue, StringComparison.Ordinal);
        var detailUrl = $"/admin/listings/{agent.ListingId}";
        var detail = await operatorClient.HtmlAsync(detailUrl);
        Assert.Contains(proposed, detail, StringComparison.Ordinal);
        Assert.Contains("Answers questions politely.", detail, StringComparison.Ordinal);

        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", queue, "listing-decision", new()
        {
            ["approve"] = agent.ListingId.ToString(),
            [$"revision-{agent.ListingId}"] = Forms.HiddenValue(queue, $"revision-{agent.ListingId}"),
        }), "/admin?done=change_approved");
        Assert.Equal(proposed, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"))).GetProperty("description").GetString());
    }

    /// <summary>A listing published and approved, so live; and the operator who approved it.</summary>
    [Fact]
    public async Task AnImageOnlyAWaitingEditUses_IsShownAsUsed_SoItIsNotDeletedBeforeTheApproval()
    {
        var (agent, _) = await app.LiveListingAsync();
        var image = (await Http.ReadJsonAsync(await agent.Seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(LiveListings.OwnListing(agent), new { preview_image = image.ToString() }));

        var page = await agent.Seller.Client.GetStringAsync($"/provider/agents/{agent.AgentId}/publish");
        var entry = page[page.IndexOf($"data-image=\"{image}\"", StringComparison.Ordinal)..];
        entry = entry[..entry.IndexOf("</li>", StringComparison.Ordinal)];
        Assert.Contains("edit waiting for review", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("Unused", entry, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARenameThatIsWithdrawnOrRejected_GivesTheAgentItsLiveNameBack()
    {
        var (agent, operatorClient) = await app.LiveListingAsync();
        var agentUrl = $"/api/provider-agents/{agent.AgentId}";

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(agentUrl, new { name = $"Withdrawn {CatalogIntents.UniqueWord()}" }));
        await Http.ReadJsonAsync(await agent.Seller.Client.DeleteAsync($"{LiveListings.OwnListing(agent)}pending-change"));
        Assert.Equal(agent.Name, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(agentUrl))).GetProperty("name").GetString());

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync(agentUrl, new { name = $"Rejected {CatalogIntents.UniqueWord()}" }));
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/reject/", new { reason = "Keep the name." }),
            HttpStatusCode.NoContent);
        Assert.Equal(agent.Name, (await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync(agentUrl))).GetProperty("name").GetString());
        Assert.Equal(agent.Name, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"))).GetProperty("name").GetString());
    }
}

/// <summary>Under auto-approval an edit of a live listing is live at once, as it always was.</summary>
public class LiveListingEditAutoApprovalTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task RenamingAndRewordingALiveListing_UnderAutoApproval_IsPublicAtOnce()
    {
        var agent = await app.PublishedAgentAsync();
        var newName = $"Renamed agent {CatalogIntents.UniqueWord()}";

        await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}", new { name = newName }));
        var own = await Http.ReadJsonAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { short_description = "Reworded." }));

        Assert.Equal(JsonValueKind.Null, own.GetProperty("pending_change").ValueKind);
        var card = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"));
        Assert.Equal((newName, "Reworded."), (card.GetProperty("name").GetString(), card.GetProperty("description").GetString()));
    }
}
