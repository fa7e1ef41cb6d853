using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// An operator sees what they approve: a listing's price, description, visibility, version and the flow's compatibility
/// report before Approve, and finds any listing by state, name, slug or provider handle.
/// </summary>
public class ListingReviewTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task Details_OfAPendingListing_ShowPriceDescriptionVersionAndReport()
    {
        var pending = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "variable_credits", credits_min = 2, credits_max = 9 }, ["visibility"] = "private", ["is_premium"] = true });
        var operatorClient = await app.OperatorAsync();

        var details = await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{pending.ListingId}"));
        Assert.Equal(("pending_review", pending.Name, pending.Slug), (details.GetProperty("state").GetString(), details.GetProperty("name").GetString(), details.GetProperty("slug").GetString()));
        var pricing = details.GetProperty("pricing");
        Assert.Equal(("variable_credits", 2L, 9L), (pricing.GetProperty("model").GetString(), pricing.GetProperty("credits_min").GetInt64(), pricing.GetProperty("credits_max").GetInt64()));
        Assert.Equal(("private", true), (details.GetProperty("visibility").GetString(), details.GetProperty("is_premium").GetBoolean()));
        Assert.Equal("## What it does\nAnswers **politely**.", details.GetProperty("description").GetString());
        Assert.Equal("Answers questions politely.", details.GetProperty("short_description").GetString());
        Assert.Equal(["support", "chat"], details.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(pending.ProviderHandle, details.GetProperty("provider").GetProperty("handle").GetString());
        Assert.Equal(pending.Seller.OrganizationId, details.GetProperty("provider").GetProperty("organization").GetGuid());
        Assert.Equal(0, details.GetProperty("subscribers_count").GetInt32());
        var version = details.GetProperty("version");
        Assert.Equal("1.0.0", version.GetProperty("version").GetString());
        Assert.True(version.GetProperty("report").GetProperty("runnable").GetBoolean());
        Assert.NotEqual(0, version.GetProperty("report").GetProperty("nodes").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("published").ValueKind);

        // Under review it is rejected, not taken down.
        await Http.AssertProblemAsync(await operatorClient.PostAsJsonAsync($"/api/admin/listings/{pending.ListingId}/take-down", new { reason = "Spam" }),
            HttpStatusCode.Conflict, "listing_state_conflict");
    }

    [Fact]
    public async Task Details_AreForOperatorsOnly_AndUnknownListingsAre404()
    {
        var pending = await app.PublishedAgentAsync();
        var buyer = await app.SignUpAsync();
        await Http.AssertStatusAsync(await buyer.Client.GetAsync($"/api/admin/listings/{pending.ListingId}"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await pending.Seller.Client.GetAsync($"/api/admin/listings/{pending.ListingId}"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/admin/listings/{pending.ListingId}"), HttpStatusCode.NotFound);
        await Http.AssertProblemAsync(await (await app.OperatorAsync()).GetAsync($"/api/admin/listings/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task List_FiltersByState_AndSearchesNameSlugAndProviderHandle_WithPricingAndVisibility()
    {
        var pending = await app.PublishedAgentAsync();
        var approved = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{approved.ListingId}/approve/", null), HttpStatusCode.NoContent);

        var queue = await ItemsAsync(operatorClient, "?limit=200");
        var row = Assert.Single(queue, l => l.GetProperty("uuid").GetGuid() == pending.ListingId);
        Assert.Equal(("fixed_credits", 5L, "public"), (row.GetProperty("pricing").GetProperty("model").GetString(), row.GetProperty("pricing").GetProperty("credits_per_run").GetInt64(), row.GetProperty("visibility").GetString()));
        Assert.DoesNotContain(queue, l => l.GetProperty("uuid").GetGuid() == approved.ListingId);

        Assert.Single(await ItemsAsync(operatorClient, $"?state=active&q={approved.ProviderHandle}"), l => l.GetProperty("uuid").GetGuid() == approved.ListingId);
        Assert.Empty(await ItemsAsync(operatorClient, $"?state=active&q={pending.ProviderHandle}"));
        Assert.Single(await ItemsAsync(operatorClient, $"?state=all&q={pending.Slug.ToUpperInvariant()}"));
        var byName = Assert.Single(await ItemsAsync(operatorClient, $"?state=all&q={Uri.EscapeDataString(approved.Name.Split(' ')[^1].ToUpperInvariant())}"));
        Assert.Equal("active", byName.GetProperty("state").GetString());
        Assert.Empty(await ItemsAsync(operatorClient, "?state=all&q=%25_nothing"));
        await Http.AssertProblemAsync(await operatorClient.GetAsync("/api/admin/listings/?state=gone"), HttpStatusCode.BadRequest, "validation_failed");
    }

    static async Task<List<JsonElement>> ItemsAsync(HttpClient operatorClient, string query) =>
        (await Http.ReadJsonAsync(await operatorClient.GetAsync($"/api/admin/listings/{query}"))).GetProperty("items").EnumerateArray().ToList();
}
