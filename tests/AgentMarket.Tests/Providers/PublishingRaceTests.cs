using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Providers;

/// <summary>The app with a barrier that lets concurrent publications and listing edits all check before any saves.</summary>
public sealed class PublishingRaceApp : AgentMarketApp
{
    public QueryBarrier Barrier { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<IInterceptor>(Barrier));
    }
}

/// <summary>
/// Requests that pass the same checks at once and collide on the database's unique indexes: the loser is told what it
/// lost to, the agent's one listing or the slug, and nothing is half-written.
/// </summary>
public class PublishingRaceTests(PublishingRaceApp app) : IClassFixture<PublishingRaceApp>
{
    [Fact]
    public async Task TwoPublicationsOfOneAgentAtOnce_PublishOne_AndTellTheOtherTheAgentIsAlreadyPublished()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync($"Racing agent {CatalogIntents.UniqueWord()}", "agents");
        await seller.ImportExampleAsync(agent);
        // Each publication's check that the agent has no listing yet.
        app.Barrier.Arm(command => command.CommandText.Contains("listings", StringComparison.Ordinal)
            && command.CommandText.Contains("agent_id", StringComparison.Ordinal) && QueryBarrier.HasParameter(command, agent), parties: 2);

        var slugs = new[] { $"racing-a-{CatalogIntents.UniqueWord()}", $"racing-b-{CatalogIntents.UniqueWord()}" };
        var responses = await Task.WhenAll(slugs.Select(slug => seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", CatalogIntents.PublishBody(slug))));

        var published = await Http.ReadJsonAsync(Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created), HttpStatusCode.Created);
        await Http.AssertProblemAsync(Assert.Single(responses, r => r.StatusCode != HttpStatusCode.Created), HttpStatusCode.Conflict, "already_published");
        var own = await Http.ReadJsonAsync(await seller.Client.GetAsync($"/api/provider-agents/{agent}/listing/"));
        Assert.Equal(published.GetProperty("slug").GetString(), own.GetProperty("slug").GetString());
    }

    [Fact]
    public async Task TwoSellersMovingToOneSlugAtOnce_OneGetsIt_TheOtherIsToldItIsTaken_AndKeepsItsOwn()
    {
        var first = await app.PublishedAgentAsync();
        var second = await app.PublishedAgentAsync();
        var wanted = $"wanted-{CatalogIntents.UniqueWord()}";
        // Each edit's check that no other listing uses, or used, the slug.
        app.Barrier.Arm(command => command.CommandText.Contains("listing", StringComparison.Ordinal)
            && command.Parameters.Cast<DbParameter>().Any(p => p.Value as string == wanted), parties: 2);

        var responses = await Task.WhenAll(new[] { first, second }.Select(agent =>
            agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/listing/", new { slug = wanted })));

        var winner = Array.FindIndex(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.NotEqual(-1, winner);
        await Http.AssertProblemAsync(responses[1 - winner], HttpStatusCode.Conflict, "slug_taken");
        var (won, lost) = winner == 0 ? (first, second) : (second, first);
        Assert.Equal(won.ListingId.ToString(), (await app.DetailsAsync(wanted)).GetProperty("uuid").GetString());
        Assert.Equal(lost.Slug, (await Http.ReadJsonAsync(await lost.Seller.Client.GetAsync($"/api/provider-agents/{lost.AgentId}/listing/"))).GetProperty("slug").GetString());
    }
}
