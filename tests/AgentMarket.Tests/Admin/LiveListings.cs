using System.Net;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

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

    /// <summary>The emails naming the listing in their subject, oldest first.</summary>
    public static async Task<List<ListingMail>> ListingMailAsync(this AgentMarketApp app, string listingName)
    {
        var mail = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().OutboxEmails.AsNoTracking()
            .Where(m => m.Subject.Contains(listingName)).Select(m => new { m.Recipient, m.Subject, m.Body, m.CreatedUtc, m.Id }).ToListAsync());
        return [.. mail.OrderBy(m => m.CreatedUtc).ThenBy(m => m.Id).Select(m => new ListingMail(m.Recipient, m.Subject, m.Body))];
    }
}

sealed record ListingMail(string Recipient, string Subject, string Body);
