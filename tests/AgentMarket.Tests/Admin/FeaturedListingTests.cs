using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>Operators pick the storefront's "Featured" row; it shows only live listings, in the operator's order.</summary>
public class FeaturedListingTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task FeaturedListingRoutes_RefuseNonOperators_AndAnswerUnknownIdsWith404()
    {
        var agent = await app.PublishedAgentAsync();
        var user = await app.SignUpAsync();
        await Http.AssertStatusAsync(await user.Client.GetAsync("/api/admin/featured-listings/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await user.Client.PutAsJsonAsync($"/api/admin/featured-listings/{agent.ListingId}", new { position = 1 }), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await agent.Seller.Client.DeleteAsync($"/api/admin/featured-listings/{agent.ListingId}"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await user.Client.GetAsync("/admin/catalog"), HttpStatusCode.NotFound);
        Assert.DoesNotContain(await RowAsync(), c => c.GetProperty("slug").GetString() == agent.Slug);

        var operatorClient = await app.OperatorAsync();
        await Http.AssertProblemAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{Guid.NewGuid()}", new { position = 1 }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.DeleteAsync($"/api/admin/featured-listings/{agent.ListingId}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{agent.ListingId}", new { position = -1 }), HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task FeaturedRow_FollowsTheOperatorsOrder_OnTheApiAndTheHomePage_AndIsAudited()
    {
        var operatorClient = await app.OperatorAsync();
        var (first, second, third) = (await app.PublishedAgentAsync(), await app.PublishedAgentAsync(), await app.PublishedAgentAsync());
        var baseline = await NextPositionAsync(operatorClient);
        await FeatureAsync(operatorClient, third, baseline + 3);
        await FeatureAsync(operatorClient, first, baseline + 1);
        var added = await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{second.ListingId}", new { }));
        Assert.Equal(baseline + 4, added.GetProperty("position").GetInt32()); // no position: after the last
        Assert.Equal(new[] { first.Slug, third.Slug, second.Slug }, Ours(await RowAsync(), first, second, third));

        // Moving one changes the order; featuring it again where it is changes nothing, and is not audited again.
        await FeatureAsync(operatorClient, second, baseline + 2);
        await FeatureAsync(operatorClient, second, baseline + 2);
        await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{second.ListingId}", new { }));
        var moves = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action=listing.featured&target={second.ListingId}"));
        Assert.Equal(2, moves.GetProperty("total").GetInt32()); // featured, moved
        Assert.Equal(new[] { first.Slug, second.Slug, third.Slug }, Ours(await RowAsync(), first, second, third));
        var home = await app.CreateClient().HtmlAsync("/");
        var positions = new[] { "featured-heading", first.Name, second.Name, third.Name }.Select(text => home.IndexOf(text, StringComparison.Ordinal)).ToList();
        Assert.All(positions, p => Assert.True(p >= 0, "the home page lacks the featured row or one of its agents"));
        Assert.Equal(positions.Order(), positions);
        // A search shows results, not the row.
        Assert.DoesNotContain("id=\"featured-heading\"", await app.CreateClient().HtmlAsync($"/?q={Uri.EscapeDataString(first.Name)}"), StringComparison.Ordinal);

        await Http.AssertStatusAsync(await operatorClient.DeleteAsync($"/api/admin/featured-listings/{third.ListingId}"), HttpStatusCode.NoContent);
        Assert.Equal(new[] { first.Slug, second.Slug }, Ours(await RowAsync(), first, second, third));

        var audit = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?target={third.ListingId}"));
        var actions = audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("listing.featured", actions);
        Assert.Contains("listing.unfeatured", actions);
        var unfeatured = audit.GetProperty("items").EnumerateArray().First(e => e.GetProperty("action").GetString() == "listing.unfeatured");
        Assert.Equal(third.Seller.OrganizationId, unfeatured.GetProperty("organization").GetGuid());
        Assert.Equal(AgentMarketApp.OperatorEmail, unfeatured.GetProperty("actor").GetProperty("email").GetString());
    }

    [Fact]
    public async Task FeaturedListing_ThatIsNoLongerLive_DropsOutOfTheRow_AndOnlyLiveListingsCanBeFeatured()
    {
        var operatorClient = await app.OperatorAsync();
        var (paused, suspended, kept) = (await app.PublishedAgentAsync(), await app.PublishedAgentAsync(), await app.PublishedAgentAsync());
        foreach (var agent in new[] { paused, suspended, kept })
        {
            await FeatureAsync(operatorClient, agent, 1);
        }
        Assert.Equal(3, Ours(await RowAsync(), paused, suspended, kept).Count);

        await Http.ReadJsonAsync(await paused.Seller.Client.PostAsync($"/api/provider-agents/{paused.AgentId}/listing/pause/", null));
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{suspended.Seller.OrganizationId}/suspend", new { reason = "Chargebacks" }));
        Assert.Equal(new[] { kept.Slug }, Ours(await RowAsync(), paused, suspended, kept));
        Assert.DoesNotContain(paused.Name, await app.CreateClient().HtmlAsync("/"), StringComparison.Ordinal);

        // The console still lists them, marked as not shown; featuring them again is refused while they are not live.
        var listed = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/featured-listings/"))).EnumerateArray().ToList();
        Assert.False(listed.Single(f => f.GetProperty("listing").GetGuid() == paused.ListingId).GetProperty("shown").GetBoolean());
        Assert.True(listed.Single(f => f.GetProperty("listing").GetGuid() == kept.ListingId).GetProperty("shown").GetBoolean());
        await Http.AssertProblemAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{paused.ListingId}", new { position = 2 }),
            HttpStatusCode.Conflict, "listing_not_published");
        var draft = await app.SellerAsync();
        var draftAgent = await draft.Seller.CreateAgentAsync();
        await Http.AssertStatusAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{draftAgent}", new { position = 2 }), HttpStatusCode.NotFound);

        // Back live, it takes its place again.
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{suspended.Seller.OrganizationId}/reactivate", null));
        Assert.Equal(new[] { suspended.Slug, kept.Slug }.Order(), Ours(await RowAsync(), paused, suspended, kept).Order());
    }

    [Fact]
    public async Task ConsolePage_FeaturesMovesAndUnfeaturesThroughItsForms()
    {
        var operatorClient = await app.OperatorAsync();
        var agent = await app.PublishedAgentAsync();
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "feature", new() { ["slug"] = agent.Slug, ["position"] = "7" }), "/admin/catalog");
        var featured = (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/featured-listings/"))).EnumerateArray()
            .Single(f => f.GetProperty("listing").GetGuid() == agent.ListingId);
        Assert.Equal(7, featured.GetProperty("position").GetInt32());
        Assert.Contains(agent.Name, await operatorClient.HtmlAsync("/admin/catalog"), StringComparison.Ordinal);

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "featured-action",
            new() { ["move"] = agent.ListingId.ToString(), [$"position-{agent.ListingId}"] = "3" }), "/admin/catalog");
        Assert.Equal(3, await PositionAsync(operatorClient, agent));
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "feature", new() { ["slug"] = "no-such-listing" }), "/admin/catalog?error=unknown_slug");
        Assert.Contains("No listing has that slug.", await operatorClient.HtmlAsync("/admin/catalog?error=unknown_slug"), StringComparison.Ordinal);

        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "featured-action", new() { ["unfeature"] = agent.ListingId.ToString() }), "/admin/catalog");
        Assert.DoesNotContain(await RowAsync(), c => c.GetProperty("slug").GetString() == agent.Slug);
    }

    [Fact]
    public async Task ConsolePage_AMoveOfARowAnotherOperatorUnfeatured_SaysSo_AndDoesNotFeatureItAgain()
    {
        var operatorClient = await app.OperatorAsync();
        var agent = await app.PublishedAgentAsync();
        await FeatureAsync(operatorClient, agent, 5);
        Assert.Contains($"position-{agent.ListingId}", await operatorClient.HtmlAsync("/admin/catalog"), StringComparison.Ordinal);
        await Http.AssertStatusAsync(await operatorClient.DeleteAsync($"/api/admin/featured-listings/{agent.ListingId}"), HttpStatusCode.NoContent);

        // The first operator's page still shows the row; its Move posts the page's one form, which the page still has.
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "featured-action",
            new() { ["move"] = agent.ListingId.ToString(), [$"position-{agent.ListingId}"] = "2" }), "/admin/catalog?error=not_featured");
        Assert.DoesNotContain((await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/featured-listings/"))).EnumerateArray(),
            f => f.GetProperty("listing").GetGuid() == agent.ListingId);
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/catalog", "featured-action",
            new() { ["move"] = agent.ListingId.ToString(), [$"position-{agent.ListingId}"] = "-1" }), "/admin/catalog?error=invalid_position");
    }

    [Fact]
    public async Task ConsolePage_ShowsOnlyItsOwnMessages_NotTheWordsOfACraftedLink()
    {
        var operatorClient = await app.OperatorAsync();
        var page = await operatorClient.HtmlAsync("/admin/catalog?error=" + Uri.EscapeDataString("Your session expired: sign in again at evil.example"));
        Assert.DoesNotContain("Your session expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-error", page, StringComparison.Ordinal);
    }

    static async Task<int> PositionAsync(HttpClient operatorClient, PublishedAgent agent) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/featured-listings/"))).EnumerateArray()
            .Single(f => f.GetProperty("listing").GetGuid() == agent.ListingId).GetProperty("position").GetInt32();

    async Task<List<JsonElement>> RowAsync() =>
        (await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/marketplace/featured/"))).EnumerateArray().ToList();

    static List<string> Ours(List<JsonElement> row, params PublishedAgent[] agents) =>
        row.Select(c => c.GetProperty("slug").GetString()!).Where(slug => agents.Any(a => a.Slug == slug)).ToList();

    static async Task FeatureAsync(HttpClient operatorClient, PublishedAgent agent, int position)
    {
        var featured = await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{agent.ListingId}", new { position }));
        Assert.Equal((agent.ListingId, position, true), (featured.GetProperty("listing").GetGuid(), featured.GetProperty("position").GetInt32(), featured.GetProperty("shown").GetBoolean()));
    }

    /// <summary>Past every position other tests of this class used, so this test's order is not mixed with theirs.</summary>
    static async Task<int> NextPositionAsync(HttpClient operatorClient) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/featured-listings/"))).EnumerateArray()
            .Select(f => f.GetProperty("position").GetInt32()).DefaultIfEmpty(0).Max() + 100;
}
