using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// An operator's approval or rejection is of the listing as they read it: one its provider changed since is refused with
/// 409 <c>listing_changed</c>, on the API and on the console's pages (ADR-158).
/// </summary>
public class ListingReviewConcurrencyTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task ApprovingOrRejectingARevisionTheProviderChangedSince_Is409ListingChanged_AndTheCurrentRevisionIsApproved()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var url = $"/api/admin/listings/{agent.ListingId}";
        var reviewed = (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("revision").GetString();

        // The provider edits the description while it waits, then serves a new version.
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { description = "Now it also sells crypto." }), HttpStatusCode.OK);
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"{url}/approve/", new { revision = reviewed }), HttpStatusCode.Conflict, "listing_changed");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"{url}/reject/", new { reason = "Fine print.", revision = reviewed }), HttpStatusCode.Conflict, "listing_changed");
        var read = (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("revision").GetString();
        Assert.NotEqual(reviewed, read);
        await agent.Seller.ImportExampleAsync(agent.AgentId, version: "1.1.0");
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"{url}/approve/", new { revision = read }), HttpStatusCode.Conflict, "listing_changed");
        Assert.Equal("pending_review", (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("state").GetString());

        var current = (await Http.ReadJsonAsync(await operatorClient.GetAsync(url))).GetProperty("revision").GetString();
        await Http.AssertStatusAsync(await operatorClient.PostAsJsonAsync($"{url}/approve/", new { revision = current }), HttpStatusCode.NoContent);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheConsolePages_RefuseADecisionOnAListingChangedSinceThePageWasRead()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var url = $"/admin/listings/{agent.ListingId}";
        var detail = await operatorClient.HtmlAsync(url);
        var queue = await operatorClient.HtmlAsync("/admin");

        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { short_description = "Something else." }), HttpStatusCode.OK);

        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(url, detail, "listing-action", new()
        {
            ["approve"] = agent.ListingId.ToString(),
            ["revision"] = Forms.HiddenValue(detail, "revision"),
        }), $"{url}?error=listing_changed");
        Assert.Contains("Its provider changed the listing since the page was read", await operatorClient.HtmlAsync($"{url}?error=listing_changed"), StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync("/admin", queue, "listing-decision", new()
        {
            ["approve"] = agent.ListingId.ToString(),
            [$"revision-{agent.ListingId}"] = Forms.HiddenValue(queue, $"revision-{agent.ListingId}"),
        }), "/admin?error=listing_changed");
        Assert.Equal("pending_review", (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{agent.ListingId}"))).GetProperty("state").GetString());

        // Read again, it is approved.
        var fresh = await operatorClient.HtmlAsync(url);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(url, fresh, "listing-action", new()
        {
            ["approve"] = agent.ListingId.ToString(),
            ["revision"] = Forms.HiddenValue(fresh, "revision"),
        }), $"{url}?done=approved");
    }
}
