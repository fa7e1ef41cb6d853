using System.Net;
using System.Net.Http.Json;
using System.Text;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

public class PublishingTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Publish_WithAutoApproval_IsActiveAtOnce_AndInTheCatalog()
    {
        var (seller, handle) = await app.SellerAsync();
        var word = CatalogIntents.UniqueWord();
        var agent = await seller.CreateAgentAsync($"Essay Coach {word}", "agents");
        await seller.ImportExampleAsync(agent, changelog: "First release.");
        var slug = $"essay-coach-{word}";
        string[] tags = ["Writing", "essays", "writing"];

        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/",
            CatalogIntents.PublishBody(slug, new() { ["tags"] = tags, ["is_premium"] = true })), HttpStatusCode.Created);

        Assert.Equal("active", listing.GetProperty("state").GetString());
        Assert.Equal("1.0.0", listing.GetProperty("served_version").GetString());
        Assert.Equal(["writing", "essays"], listing.GetProperty("tags").EnumerateArray().Select(t => t.GetString()!).ToArray());
        var page = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/?search={word}"));
        var card = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(slug, card.GetProperty("slug").GetString());
        Assert.Equal(handle, card.GetProperty("provider").GetProperty("handle").GetString());
        Assert.True(card.GetProperty("is_premium").GetBoolean());
        var details = await app.DetailsAsync(slug);
        Assert.Equal("First release.", details.GetProperty("versions")[0].GetProperty("changelog").GetString());

        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", CatalogIntents.PublishBody(slug + "-2")), HttpStatusCode.Conflict, "already_published");
    }

    [Fact]
    public async Task Publish_BeforeImportingAFlow_Returns409()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", CatalogIntents.PublishBody("no-flow-yet")), HttpStatusCode.Conflict, "no_version");
    }

    [Fact]
    public async Task Publish_ATakenSlug_Returns409()
    {
        var first = await app.PublishedAgentAsync();
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", CatalogIntents.PublishBody(first.Slug)), HttpStatusCode.Conflict, "slug_taken");
    }

    [Theory]
    [InlineData("../etc/passwd")]
    [InlineData("a/b")]
    [InlineData("a%2Fb")]
    [InlineData("a\\b")]
    [InlineData("..")]
    [InlineData("UPPER")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("two--hyphens")]
    [InlineData("x")]
    [InlineData("with space")]
    [InlineData("émoji-😀")]
    [InlineData("0190f3c2-7d4e-7b1a-9c3e-1f2a3b4c5d6e")]
    public async Task Publish_ASlugWithPathCharactersOrOtherwiseInvalid_Returns400(string slug)
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);

        var problem = await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("slug", out _));
    }

    [Theory]
    [InlineData("free", 5, 0, 0, "pricing")]
    [InlineData("fixed_credits", 0, 0, 0, "pricing.credits_per_run")]
    [InlineData("variable_credits", 0, 10, 5, "pricing.credits_max")]
    [InlineData("subscription", 0, 0, 0, "pricing.credits_per_run")]
    [InlineData("fixed_credits", 2_000_000, 0, 0, "pricing.credits_per_run")]
    public async Task Publish_InconsistentPricing_Returns400NamingTheField(string model, long perRun, long min, long max, string field)
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var body = CatalogIntents.PublishBody($"p-{Guid.NewGuid():N}"[..16], new() { ["pricing"] = new { model, credits_per_run = perRun, credits_min = min, credits_max = max } });

        var problem = await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", body), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Publish_MissingRequiredParts_Returns400NamingThem()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        foreach (var (missing, body) in new[] { ("slug", (object)new { short_description = "x", pricing = new { model = "free" } }), ("pricing", new { slug = "needs-pricing", short_description = "x" }), ("pricing.model", new { slug = "needs-model", short_description = "x", pricing = new { credits_per_run = 3 } }) })
        {
            var problem = await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", body), HttpStatusCode.BadRequest, "validation_failed");
            Assert.True(problem.GetProperty("errors").TryGetProperty(missing, out _), problem.ToString());
        }
    }

    [Fact]
    public async Task PauseUnpauseArchive_FollowTheStateMachine_AndTheCatalogFollows()
    {
        var published = await app.PublishedAgentAsync();
        var seller = published.Seller;
        var listing = $"/api/provider-agents/{published.AgentId}/listing";

        Assert.Equal("paused", (await Http.ReadJsonAsync(await seller.Client.PostAsync($"{listing}/pause/", null))).GetProperty("state").GetString());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(published.Name)}"))).GetProperty("total").GetInt32());
        // The provider still sees its own paused listing.
        Assert.Equal("paused", (await app.DetailsAsync(published.Slug, seller.Client)).GetProperty("state").GetString());
        await Http.AssertProblemAsync(await seller.Client.PostAsync($"{listing}/pause/", null), HttpStatusCode.Conflict, "listing_state_conflict");

        Assert.Equal("active", (await Http.ReadJsonAsync(await seller.Client.PostAsync($"{listing}/unpause/", null))).GetProperty("state").GetString());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.OK);

        Assert.Equal("archived", (await Http.ReadJsonAsync(await seller.Client.PostAsync($"{listing}/archive/", null))).GetProperty("state").GetString());
        await Http.AssertProblemAsync(await seller.Client.PostAsync($"{listing}/unpause/", null), HttpStatusCode.Conflict, "agent_archived");
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Edit_ChangesWhatVisitorsSee_IncludingTheName()
    {
        var published = await app.PublishedAgentAsync();
        var seller = published.Seller;
        var word = CatalogIntents.UniqueWord();

        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{published.AgentId}/listing/",
            new { short_description = $"Now with {word}.", category = "apps", visibility = "private" }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{published.AgentId}/listing/", new { visibility = "public" }), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await seller.Client.PatchAsJsonAsync($"/api/provider-agents/{published.AgentId}/", new { name = $"Renamed {word}" }), HttpStatusCode.OK);

        var details = await app.DetailsAsync(published.Slug);
        Assert.Equal($"Renamed {word}", details.GetProperty("name").GetString());
        Assert.Equal($"Now with {word}.", details.GetProperty("description").GetString());
        Assert.Equal("apps", details.GetProperty("category").GetString());
    }

    [Fact]
    public async Task Images_AreCheckedForSizeAndType_AndServedSafely()
    {
        var (seller, _) = await app.SellerAsync();
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(Encoding.UTF8.GetBytes("<svg onload=alert(1)></svg>"), "x.svg", "image/svg+xml")),
            HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(Encoding.UTF8.GetBytes("just text"), "x.png", "image/png")),
            HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");
        var big = new byte[3 * 1024 * 1024];
        Images.OnePixelPng.CopyTo(big, 0);
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(big, "big.png", "image/png")), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");

        var image = await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        var url = image.GetProperty("url").GetString()!;
        Assert.EndsWith(".png", url, StringComparison.Ordinal);
        var served = await app.CreateClient().GetAsync(url);
        await Http.AssertStatusAsync(served, HttpStatusCode.OK);
        Assert.Equal("image/png", served.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", served.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(Images.OnePixelPng, await served.Content.ReadAsByteArrayAsync());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync("/media/images/not-a-uuid.png"), HttpStatusCode.NotFound);

        var published = await app.PublishedAgentAsync(overrides: new() { ["preview_image"] = null });
        await Http.AssertProblemAsync(await published.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{published.AgentId}/listing/", new { preview_image = image.GetProperty("uuid").GetGuid() }),
            HttpStatusCode.BadRequest, "validation_failed");
        var own = await Http.ReadJsonAsync(await published.Seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await published.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{published.AgentId}/listing/", new { preview_image = own.GetProperty("url").GetString() }), HttpStatusCode.OK);
        Assert.Equal(own.GetProperty("url").GetString(), (await app.CardAsync(published)).GetProperty("preview_image").GetString());
    }

    [Fact]
    public async Task PriceIncrease_ReachesSubscribersAfterTheNotice_WhileADecreaseIsImmediate()
    {
        var published = await app.PublishedAgentAsync();
        var listing = $"/api/provider-agents/{published.AgentId}/listing/";

        await Http.AssertStatusAsync(await published.Seller.Client.PatchAsJsonAsync(listing, new { pricing = new { model = "fixed_credits", credits_per_run = 8 } }), HttpStatusCode.OK);
        var details = await app.DetailsAsync(published.Slug);
        Assert.Equal(8, details.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        var notice = details.GetProperty("pending_price_change");
        Assert.Equal(8, notice.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        var effective = notice.GetProperty("effective_at").GetDateTime();
        Assert.InRange(effective, DateTime.UtcNow.AddDays(14).AddMinutes(-5), DateTime.UtcNow.AddDays(14).AddMinutes(5));

        // A decrease below what subscribers pay ends the notice at once.
        await Http.AssertStatusAsync(await published.Seller.Client.PatchAsJsonAsync(listing, new { pricing = new { model = "fixed_credits", credits_per_run = 3 } }), HttpStatusCode.OK);
        details = await app.DetailsAsync(published.Slug);
        Assert.Equal(3, details.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, details.GetProperty("pending_price_change").ValueKind);
    }
}

/// <summary>An app where operators approve listings.</summary>
public sealed class ManualListingApprovalApp : AgentMarketApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Marketplace:AutoApproveListings", "false")];
}

public class ListingApprovalTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task Publish_WithoutAutoApproval_WaitsForTheOperator_WhoRejectsThenApproves()
    {
        var published = await app.PublishedAgentAsync();
        var own = await Http.ReadJsonAsync(await published.Seller.Client.GetAsync($"/api/provider-agents/{published.AgentId}/listing/"));
        Assert.Equal("pending_review", own.GetProperty("state").GetString());
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.NotFound);

        var operatorClient = await app.OperatorAsync();
        var queue = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/listings/"));
        Assert.Contains(queue.GetProperty("items").EnumerateArray(), l => l.GetProperty("uuid").GetGuid() == published.ListingId);

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{published.ListingId}/reject/", new { reason = "Add a description." }), HttpStatusCode.NoContent);
        own = await Http.ReadJsonAsync(await published.Seller.Client.GetAsync($"/api/provider-agents/{published.AgentId}/listing/"));
        Assert.Equal("draft", own.GetProperty("state").GetString());
        Assert.Equal("Add a description.", own.GetProperty("moderation_note").GetString());
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{published.ListingId}/approve/", null), HttpStatusCode.Conflict, "listing_state_conflict");

        Assert.Equal("pending_review", (await Http.ReadJsonAsync(await published.Seller.Client.PostAsync($"/api/provider-agents/{published.AgentId}/listing/submit/", null))).GetProperty("state").GetString());
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{published.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task ConsolePage_RejectsWithItsReason_AndApprovesListings_SayingSo()
    {
        var rejected = await app.PublishedAgentAsync();
        var approved = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "listing-decision", new() { ["reject"] = rejected.ListingId.ToString() }), "/admin?error=reason_required");
        Assert.Equal("pending_review", await StateAsync(rejected));
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "listing-decision",
            new() { ["reject"] = rejected.ListingId.ToString(), [$"reason-{rejected.ListingId}"] = "Add a description." }), "/admin?done=listing_rejected");
        Assert.Contains("The listing is back in draft", await operatorClient.HtmlAsync("/admin?done=listing_rejected"), StringComparison.Ordinal);
        var own = await Http.ReadJsonAsync(await rejected.Seller.Client.GetAsync($"/api/provider-agents/{rejected.AgentId}/listing/"));
        Assert.Equal(("draft", "Add a description."), (own.GetProperty("state").GetString(), own.GetProperty("moderation_note").GetString()));

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin", "listing-decision", new() { ["approve"] = approved.ListingId.ToString() }), "/admin?done=listing_approved");
        Assert.Equal("active", await StateAsync(approved));
    }

    [Fact]
    public async Task ConsolePage_ADecisionOnAListingAnotherOperatorDecidedAfterThePageWasRead_SaysSo_AndChangesNothing()
    {
        var published = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var page = await operatorClient.HtmlAsync("/admin");
        Assert.Contains($"value=\"{published.ListingId}\"", page, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await (await app.OperatorAsync()).PostAsync($"/api/admin/listings/{published.ListingId}/approve/", null), HttpStatusCode.NoContent);

        // The first operator's page still shows the listing; its buttons post the section's one form, which the page still has.
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "listing-decision",
            new() { ["reject"] = published.ListingId.ToString(), [$"reason-{published.ListingId}"] = "Too late." }), "/admin?error=listing_decided");
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", page, "listing-decision", new() { ["approve"] = published.ListingId.ToString() }), "/admin?error=listing_decided");
        Assert.Contains("That listing is no longer waiting for review", await operatorClient.HtmlAsync("/admin?error=listing_decided"), StringComparison.Ordinal);
        Assert.Equal("active", await StateAsync(published));
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{published.Slug}/"), HttpStatusCode.OK);
    }

    static async Task<string?> StateAsync(PublishedAgent published) =>
        (await Http.ReadJsonAsync(await published.Seller.Client.GetAsync($"/api/provider-agents/{published.AgentId}/listing/"))).GetProperty("state").GetString();
}
