using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

/// <summary>The gateway's app where operators approve listings.</summary>
public sealed class ManualApprovalGatewayApp : GatewayApp
{
    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [.. base.ExtraSettings(), new("Marketplace:AutoApproveListings", "false")];
}

/// <summary>
/// Every path that puts a listing live publishes it (ADR-152): a listing that first goes live with its provider's
/// reactivation gets its publication date, so a later price increase reaches its subscribers only after the notice.
/// </summary>
public class ListingPublicationTests(ManualApprovalGatewayApp app) : IClassFixture<ManualApprovalGatewayApp>
{
    [Fact]
    public async Task AListingApprovedWhileItsProviderIsSuspended_IsPublishedByTheReactivation_SoAPriceIncreaseWaitsForTheNotice()
    {
        var agent = await app.PromptAgentAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.ReadJsonAsync(await operatorClient.PostAsJsonAsync($"/api/admin/organizations/{agent.Seller.OrganizationId}/suspend", new { reason = "Checking identity" }));
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        await Http.ReadJsonAsync(await operatorClient.PostAsync($"/api/admin/organizations/{agent.Seller.OrganizationId}/reactivate", null));

        var own = await Http.ReadJsonAsync(await agent.Seller.Client.GetAsync($"/api/provider-agents/{agent.AgentId}/listing/"));
        Assert.Equal("active", own.GetProperty("state").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, own.GetProperty("published").ValueKind);

        var subscribed = await app.SubscribedAsync(agent);
        var oldPrice = (await app.DetailsAsync(agent.Slug)).GetProperty("pricing").GetProperty("credits_per_run").GetInt64();
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/",
            new { pricing = new { model = "fixed_credits", credits_per_run = oldPrice + 3 } }), HttpStatusCode.OK);

        var notice = (await app.DetailsAsync(agent.Slug)).GetProperty("pending_price_change");
        Assert.Equal(oldPrice + 3, notice.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        var run = await Http.ReadJsonAsync(await subscribed.KeyClient.RunAsync(subscribed.Config, "Hello"));
        Assert.Equal(oldPrice, run.GetProperty("credits_charged").GetInt64());
    }
}
