using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

/// <summary>A search or category that finds nothing says so and offers the next step: every agent, or the other categories.</summary>
public class EmptyCatalogResultsTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ASearchThatFindsNothing_OffersAllAgents()
    {
        var word = CatalogIntents.UniqueWord();

        var html = await app.CreateClient().HtmlAsync($"/?q={word}");

        Assert.Contains($"No agents match “{word}”.", html, StringComparison.Ordinal);
        Assert.Contains("<a class=\"btn btn-primary\" href=\"/\">Show all agents</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Pick another category", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACategoryThatFindsNothing_NamesIt_AndOffersAllAgents_TheSearchInEveryCategory_AndTheOtherCategories()
    {
        var word = CatalogIntents.UniqueWord();
        var agent = await app.PublishedAgentAsync(name: $"Agent {word}", category: "assistants");
        var other = (await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/marketplace/categories/")))
            .EnumerateArray().First(c => c.GetProperty("slug").GetString() != "assistants");
        var (slug, name) = (other.GetProperty("slug").GetString()!, other.GetProperty("name").GetString()!);

        var html = await app.CreateClient().HtmlAsync($"/?q={word}&category={slug}");

        Assert.Contains($"No agents in {name} match “{word}”.", html, StringComparison.Ordinal);
        Assert.Contains("<a class=\"btn btn-primary\" href=\"/\">Show all agents</a>", html, StringComparison.Ordinal);
        Assert.Contains($"<a class=\"btn btn-ghost\" href=\"/?q={word}\">Search all categories for “{word}”</a>", html, StringComparison.Ordinal);
        Assert.Contains("<a class=\"btn btn-ghost\" href=\"#categories\">Pick another category</a>", html, StringComparison.Ordinal);
        Assert.Contains("<nav id=\"categories\" aria-label=\"Categories\">", html, StringComparison.Ordinal);
        // The search in every category does find the agent.
        Assert.Contains(agent.Slug, await app.CreateClient().HtmlAsync($"/?q={word}"), StringComparison.Ordinal);
    }
}
