using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// Full-text search through the catalog API on a small catalog of its own: relevance, prefixes, filters, sorts,
/// pagination, and the index following every change. Each listing carries the fixture's unique word, so the tests
/// see only their own catalog.
/// </summary>
public class SearchTests(SearchTests.Catalog catalog) : IClassFixture<SearchTests.Catalog>
{
    public sealed class Catalog : AgentMarketApp
    {
        public string Word { get; } = CatalogIntents.UniqueWord();
        public Dictionary<string, PublishedAgent> Agents { get; } = [];

        public override async ValueTask InitializeAsync()
        {
            await base.InitializeAsync();
            async Task AddAsync(string key, string name, string category, string summary, string[] tags, object pricing, int runs = 0, int failed = 0)
            {
                var agent = await this.PublishedAgentAsync(slug: $"{key}-{Word}", name: name, category: category, overrides: new()
                {
                    ["short_description"] = $"{summary} {Word}",
                    ["description"] = "Plain description.",
                    ["tags"] = tags,
                    ["pricing"] = pricing,
                });
                var buyer = await SignUpAsync();
                for (var i = 0; i < runs; i++)
                {
                    await this.RecordRunAsync(agent.ListingId, buyer.OrganizationId);
                }
                for (var i = 0; i < failed; i++)
                {
                    await this.RecordRunAsync(agent.ListingId, buyer.OrganizationId, AgentMarket.Catalog.SocialProof.RunOutcome.Failed);
                }
                Agents[key] = agent;
            }
            await AddAsync("invoice-extractor", "Invoice Extractor", "automations", "Pulls totals out of documents.", ["finance"], new { model = "fixed_credits", credits_per_run = 4 }, runs: 3);
            await AddAsync("ledger-helper", "Ledger Helper", "assistants", "Keeps your books; reads every invoice you forward.", ["accounting"], new { model = "variable_credits", credits_min = 2, credits_max = 9 }, runs: 9);
            await AddAsync("poem-writer", "Poem Writer", "agents", "Writes short poems.", ["writing", "invoices"], new { model = "free" });
            await AddAsync("support-desk", "Support Desk", "assistants", "Answers customer tickets.", ["support"], new { model = "subscription", credits_per_run = 300 }, runs: 1, failed: 1);
        }
    }

    [Fact]
    public async Task Search_RanksANameMatchAboveADescriptionMatch_AndFindsTagsAndPlurals()
    {
        var slugs = await SlugsAsync("invoice");
        Assert.Equal(["invoice-extractor", "poem-writer", "ledger-helper"], slugs);

        // "invoices" finds the singular, and "invoice" the plural tag.
        Assert.Equal(["invoice-extractor", "poem-writer", "ledger-helper"], await SlugsAsync("invoices"));
    }

    [Fact]
    public async Task Search_MatchesPrefixes_AsTheVisitorTypes()
    {
        var typed = await SlugsAsync("invo");
        Assert.Equal("invoice-extractor", typed[0]);
        Assert.Equal(["invoice-extractor", "ledger-helper", "poem-writer"], typed.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal(["support-desk"], await SlugsAsync("custom"));
        Assert.Equal(["support-desk"], await SlugsAsync("answers custo"));
        // A finished word is matched whole: "custom " is not "customer".
        Assert.Empty(await SlugsAsync("custom "));
    }

    [Fact]
    public async Task Search_IgnoresQuerySyntax_AndAccents()
    {
        // Quotes, stars and parentheses are not syntax; accents fold; the last word is still a prefix.
        Assert.Equal(["poem-writer"], await SlugsAsync("(\"poëms*"));
        Assert.Equal(["poem-writer"], await SlugsAsync("writes: short"));
        Assert.Empty(await SlugsAsync("poems -writes NEAR"));
        var nothing = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString("*:&|!()")}&category=agents"));
        Assert.True(nothing.GetProperty("total").GetInt32() >= 1, "a query with no words browses instead");
    }

    [Fact]
    public async Task Search_FindsTheProviderByName()
    {
        var provider = await Http.ReadJsonAsync(await catalog.Agents["poem-writer"].Seller.Client.GetAsync("/api/providers/mine"));
        var page = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(provider.GetProperty("handle").GetString()!)}"));
        Assert.Equal("poem-writer-" + catalog.Word, page.GetProperty("items")[0].GetProperty("slug").GetString());
    }

    [Fact]
    public async Task Filters_ByCategoryPricingFreeAndRating()
    {
        Assert.Equal(["ledger-helper", "support-desk"], await SlugsAsync(null, "&category=assistants"));
        Assert.Equal(["poem-writer"], await SlugsAsync(null, "&free=true"));
        Assert.Equal(["ledger-helper"], await SlugsAsync(null, "&pricing_model=variable_credits"));
        Assert.Equal(["invoice-extractor"], await SlugsAsync("invoice", "&category=automations"));
        Assert.Empty(await SlugsAsync(null, "&min_rating=1"));
    }

    [Fact]
    public async Task Sorts_ByPopularityPriceAndNewest()
    {
        Assert.Equal(["ledger-helper", "invoice-extractor", "support-desk", "poem-writer"], await SlugsAsync(null));
        Assert.Equal(["ledger-helper", "invoice-extractor", "support-desk", "poem-writer"], await SlugsAsync(null, "&sort=popular"));
        Assert.Equal(["poem-writer", "ledger-helper", "invoice-extractor", "support-desk"], await SlugsAsync(null, "&sort=price"));
        Assert.Equal(["support-desk", "poem-writer", "ledger-helper", "invoice-extractor"], await SlugsAsync(null, "&sort=newest"));
        // With a search, another sort turns relevance into a filter.
        Assert.Equal(["ledger-helper", "invoice-extractor", "poem-writer"], await SlugsAsync("invoice", "&sort=popular"));
    }

    [Fact]
    public async Task Pagination_SaysTheTotal_AndPagesInOrder()
    {
        var first = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={catalog.Word}&limit=3&sort=popular"));
        var second = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={catalog.Word}&limit=3&offset=3&sort=popular"));
        var past = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={catalog.Word}&limit=3&offset=30"));

        Assert.Equal(4, first.GetProperty("total").GetInt32());
        Assert.Equal(3, first.GetProperty("items").GetArrayLength());
        Assert.Equal(3, first.GetProperty("limit").GetInt32());
        Assert.Equal("poem-writer-" + catalog.Word, Assert.Single(second.GetProperty("items").EnumerateArray()).GetProperty("slug").GetString());
        Assert.Equal(4, second.GetProperty("total").GetInt32());
        Assert.Empty(past.GetProperty("items").EnumerateArray());
        Assert.Equal(4, past.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task TheIndex_FollowsEdits_ProviderRenames_AndStateChanges()
    {
        var agent = await catalog.PublishedAgentAsync(name: "Mutable Thing", overrides: new() { ["short_description"] = "Temporary " + catalog.Word + "zz" });
        var before = CatalogIntents.UniqueWord();
        var after = CatalogIntents.UniqueWord();
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { name = $"Renamed {before}" }), HttpStatusCode.OK);
        Assert.Single(await SlugsAsync(before, raw: true));

        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync($"/api/provider-agents/{agent.AgentId}/", new { name = $"Renamed {after}" }), HttpStatusCode.OK);
        Assert.Empty(await SlugsAsync(before, raw: true));
        Assert.Single(await SlugsAsync(after, raw: true));

        var providerWord = CatalogIntents.UniqueWord();
        await Http.AssertStatusAsync(await agent.Seller.Client.PatchAsJsonAsync("/api/providers/mine", new { name = $"Studio {providerWord}" }), HttpStatusCode.OK);
        Assert.Single(await SlugsAsync(providerWord, raw: true));

        await Http.AssertStatusAsync(await agent.Seller.Client.PostAsync($"/api/provider-agents/{agent.AgentId}/listing/pause/", null), HttpStatusCode.OK);
        Assert.Empty(await SlugsAsync(after, raw: true));
    }

    [Fact]
    public async Task Relevance_BlendsInPopularity_AmongEquallyRelevantAgents()
    {
        var word = CatalogIntents.UniqueWord();
        var quiet = await catalog.PublishedAgentAsync(name: $"Quiet {word}");
        var busy = await catalog.PublishedAgentAsync(name: $"Busy {word}");
        var buyer = await catalog.SignUpAsync();
        for (var i = 0; i < 20; i++)
        {
            await catalog.RecordRunAsync(busy.ListingId, buyer.OrganizationId);
        }
        Assert.Equal([busy.Slug, quiet.Slug], await SlugsAsync(word, raw: true));
    }

    [Fact]
    public async Task Suggestions_NameTheBestMatches_ForTheSearchBox()
    {
        var suggestions = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/suggestions/?q={catalog.Word}%20led"));
        var suggestion = Assert.Single(suggestions.EnumerateArray());
        Assert.Equal("Ledger Helper", suggestion.GetProperty("name").GetString());
        Assert.Empty((await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync("/api/marketplace/suggestions/?q=%20"))).EnumerateArray());
    }

    [Theory]
    [InlineData("sort=cheapest", "sort")]
    [InlineData("pricing_model=gratis", "pricing_model")]
    [InlineData("free=maybe", "free")]
    [InlineData("min_rating=6", "min_rating")]
    [InlineData("min_rating=NaN", "min_rating")]
    [InlineData("offset=1000000", "offset")]
    public async Task BadParameters_Return400NamingTheParameter(string query, string field)
    {
        var problem = await Http.AssertProblemAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?{query}"), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    /// <summary>Slugs (without the fixture's word) of the fixture's listings matching <paramref name="search"/>, in the order returned.</summary>
    async Task<string[]> SlugsAsync(string? search, string extra = "", bool raw = false)
    {
        var query = raw ? search : string.Join(' ', new[] { catalog.Word, search }.Where(s => s is not null));
        if (!raw && search is not null && search.EndsWith(' '))
        {
            query += " ";
        }
        var page = await Http.ReadJsonAsync(await catalog.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(query ?? "")}{extra}&limit=50"));
        return page.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("slug").GetString()!.Replace("-" + catalog.Word, "", StringComparison.Ordinal)).ToArray();
    }
}
