using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// An operator takes an abusive live listing down without waiting for its seller: it leaves the catalog and stops
/// running, its seller sees why and cannot bring it back; restoring it puts it back as it was. Both are audited.
/// </summary>
public class ListingTakeDownTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task TakingDown_TakesTheListingOutOfTheCatalog_StopsItsRuns_AndFreezesIt_UntilRestored()
    {
        var subscribed = await app.SubscribedAsync();
        var agent = subscribed.Agent;
        var seller = agent.Seller.Client;
        var visitor = app.CreateClient();
        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PutAsJsonAsync($"/api/admin/featured-listings/{agent.ListingId}", new { position = 0 }));
        Assert.Contains(agent.Slug, await FeaturedAsync(visitor));

        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Impersonates a bank." }), HttpStatusCode.NoContent);

        // Out of the catalog, its search, the featured row and its page; its subscribers' runs stop.
        await Http.AssertStatusAsync(await visitor.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        Assert.DoesNotContain(agent.Slug, await (await visitor.GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(agent.Name)}")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(agent.Slug, await FeaturedAsync(visitor));
        await visitor.HtmlAsync($"/agents/{agent.Slug}", HttpStatusCode.NotFound);
        var refused = await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello"), HttpStatusCode.Conflict, "agent_unavailable");
        Assert.Equal("The marketplace has taken this agent down.", refused.GetProperty("detail").GetString());
        // Its subscribers see why, instead of an "Active" agent whose calls all fail.
        var config = await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"));
        Assert.Equal("The marketplace has taken this agent down.", config.GetProperty("unavailable").GetString());
        Assert.Contains("Not running: The marketplace has taken this agent down.", await subscribed.Buyer.Client.HtmlAsync("/my-agents"), StringComparison.Ordinal);
        Assert.Contains("Not running: The marketplace has taken this agent down.", await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure"), StringComparison.Ordinal);
        // Nobody can read a review there now, so none is taken, even from a buyer who has used it.
        await app.RecordRunAsync(agent.ListingId, subscribed.Buyer.OrganizationId);
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 1, text = "Gone?" }),
            HttpStatusCode.Conflict, "listing_state_conflict");

        // Its seller sees why, and can neither change it nor bring it back.
        var own = await Http.ReadJsonAsync(await seller.GetAsync($"/api/provider-agents/{agent.AgentId}/listing/"));
        Assert.Equal(("taken_down", "Impersonates a bank."), (own.GetProperty("state").GetString(), own.GetProperty("moderation_note").GetString()));
        Assert.Contains("An operator took this listing down: Impersonates a bank.", await seller.HtmlAsync($"/provider/agents/{agent.AgentId}"), StringComparison.Ordinal);
        await Http.AssertProblemAsync(await seller.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing", new { short_description = "Nothing to see." }),
            HttpStatusCode.Forbidden, "listing_taken_down");
        foreach (var action in new[] { "unpause", "pause", "submit", "archive" })
        {
            await Http.AssertProblemAsync(await seller.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/{action}", null), HttpStatusCode.Forbidden, "listing_taken_down");
        }

        var takenDown = Assert.Single(await AuditAsync(operatorClient, "listing.taken_down", agent.ListingId));
        Assert.Equal(("active", "taken_down", "Impersonates a bank."),
            (takenDown.GetProperty("before").GetProperty("state").GetString(), takenDown.GetProperty("after").GetProperty("state").GetString(), takenDown.GetProperty("after").GetProperty("reason").GetString()));
        Assert.Equal(AgentMarketApp.OperatorEmail, takenDown.GetProperty("actor").GetProperty("email").GetString());
        // Its seller is told by email too, with the operator's note: a take-down is not something to find by chance.
        var takeDownMail = Assert.Single(await SellerMailAsync(agent));
        Assert.Equal($"Your listing “{agent.Name}” was taken down", takeDownMail.Subject);
        Assert.Contains("Impersonates a bank.", takeDownMail.Body, StringComparison.Ordinal);
        var listed = (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/?state=taken_down&q={agent.Slug}"))).GetProperty("items");
        Assert.Equal("Impersonates a bank.", Assert.Single(listed.EnumerateArray()).GetProperty("moderation_note").GetString());

        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await visitor.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.OK);
        Assert.Contains(agent.Slug, await FeaturedAsync(visitor));
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello again"), HttpStatusCode.OK);
        Assert.Equal(JsonValueKind.Null, (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/customer-agent-configs/{subscribed.Config}/"))).GetProperty("unavailable").ValueKind);
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Back." }), HttpStatusCode.Created);
        own = await Http.ReadJsonAsync(await seller.GetAsync($"/api/provider-agents/{agent.AgentId}/listing/"));
        Assert.Equal(("active", JsonValueKind.Null), (own.GetProperty("state").GetString(), own.GetProperty("moderation_note").ValueKind));
        await Http.AssertStatusAsync(await seller.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause", null), HttpStatusCode.OK);
        Assert.Single(await AuditAsync(operatorClient, "listing.restored", agent.ListingId));
        var restoreMail = (await SellerMailAsync(agent))[^1];
        Assert.Equal($"Your listing “{agent.Name}” is restored", restoreMail.Subject);
        Assert.Contains("live in the catalog again", restoreMail.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TakeDownAndRestore_RefuseNonOperators_UnknownListings_AMissingReason_AndTheWrongState()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var buyer = await app.SignUpAsync();
        foreach (var client in new[] { buyer.Client, agent.Seller.Client, app.CreateClient() })
        {
            await Http.AssertStatusAsync(await client.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "x" }), HttpStatusCode.NotFound);
            await Http.AssertStatusAsync(await client.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NotFound);
        }
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{Guid.NewGuid()}/take-down", new { reason = "x" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{Guid.NewGuid()}/restore", null), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = " " }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = new string('x', 1001) }), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.Conflict, "listing_state_conflict");

        // A paused listing is live too; taking it down twice, or restoring twice, is refused.
        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Spam" }), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Spam" }), HttpStatusCode.Conflict, "listing_state_conflict");
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.Conflict, "listing_state_conflict");
        Assert.Equal("paused", await StateAsync(operatorClient, agent));
    }

    [Fact]
    public async Task Restoring_PutsTheListingBackAsItWasTakenDown_APausedOneStaysPaused_UntilItsSellerResumesIt()
    {
        var subscribed = await app.SubscribedAsync();
        var agent = subscribed.Agent;
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Spam" }), HttpStatusCode.NoContent);

        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);

        // The operator's restore undoes the take-down, not the seller's pause: its subscribers' runs stay stopped.
        Assert.Equal("paused", await StateAsync(operatorClient, agent));
        await Http.AssertProblemAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello"), HttpStatusCode.Conflict, "agent_unavailable");
        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/unpause", null), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello again"), HttpStatusCode.OK);
        var restored = Assert.Single(await AuditAsync(operatorClient, "listing.restored", agent.ListingId));
        Assert.Equal("paused", restored.GetProperty("after").GetProperty("state").GetString());
        // The seller's email says so, rather than that the agent runs again.
        Assert.Contains("paused: resume it", (await SellerMailAsync(agent))[^1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATakenDownListing_StaysDownThroughASuspension_AndRestoredDuringOne_GoesLiveWithTheReactivation()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var organization = agent.Seller.OrganizationId;
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{agent.ListingId}/take-down", new { reason = "Spam" }), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{organization}/suspend", new { reason = "Abuse" }));
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{organization}/reactivate", null));
        Assert.Equal("taken_down", await StateAsync(operatorClient, agent));

        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{organization}/suspend", new { reason = "Abuse" }));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/restore", null), HttpStatusCode.NoContent);
        Assert.Equal("suspended", await StateAsync(operatorClient, agent));
        Assert.Contains("goes live in the catalog when your organization is reactivated", (await SellerMailAsync(agent))[^1].Body, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{organization}/reactivate", null));
        Assert.Equal("active", await StateAsync(operatorClient, agent));
    }

    /// <summary>The emails about the listing to its seller (its subscribers get their own notices).</summary>
    async Task<List<ListingMail>> SellerMailAsync(PublishedAgent agent) =>
        [.. (await app.ListingMailAsync(agent.Name)).Where(m => m.Recipient == agent.Seller.Email)];

    static async Task<string?> StateAsync(HttpClient operatorClient, PublishedAgent agent) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{agent.ListingId}"))).GetProperty("state").GetString();

    static async Task<List<string?>> FeaturedAsync(HttpClient client) =>
        (await Http.ReadJsonAsync(await client.GetAsync("/api/marketplace/featured/"))).EnumerateArray().Select(f => f.GetProperty("slug").GetString()).ToList();

    static async Task<List<JsonElement>> AuditAsync(HttpClient operatorClient, string action, Guid listing) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/audit/?action={action}&target={listing}"))).GetProperty("items").EnumerateArray().ToList();
}
