using System.Net;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>Live listings for the review tests (ADR-163, ADR-169): published, approved by an operator, and their seller's listing URL.</summary>
static class LiveListings
{
    /// <summary>A listing published and approved, so live; and the operator who approved it.</summary>
    public static async Task<(PublishedAgent Agent, HttpClient Operator)> LiveListingAsync(this AgentMarketApp app)
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        return (agent, operatorClient);
    }

    /// <summary>The seller's own listing resource.</summary>
    public static string OwnListing(PublishedAgent agent) => $"/api/provider-agents/{agent.AgentId}/listing/";
}
