using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Catalog;

public class CatalogApiTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task OneOfAnything_ReadsInTheSingular_OnTheAgentPage()
    {
        var agent = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "fixed_credits", credits_per_run = 1 } });
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 4, text = "Fine" }), HttpStatusCode.Created);

        var html = System.Net.WebUtility.HtmlDecode(await (await app.CreateClient().GetAsync($"/agents/{agent.Slug}")).Content.ReadAsStringAsync());
        foreach (var expected in new[] { "1 credit/run", "(1 review)", "1 run", "1 team this month" })
        {
            Assert.Contains(expected, html, StringComparison.Ordinal);
        }
        Assert.DoesNotMatch(@"\b1 (credits|reviews|runs|teams)\b", html);
    }

    [Fact]
    public async Task Cards_HaveExactlyTheSpecsFields_AndTheSeedsCounters_FromFacts()
    {
        var agent = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "variable_credits", credits_min = 2, credits_max = 9 }, ["is_premium"] = true });
        var buyer = await app.SignUpAsync();
        await app.RecordCustomerRunAsync(buyer, agent.ListingId);
        await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = 5, text = "Great" }), HttpStatusCode.Created);

        foreach (var path in new[] { "/api/marketplace/agents/", "/api/marketplace-public-offerings/" })
        {
            var page = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"{path}?search={Uri.EscapeDataString(agent.Name)}"));
            Assert.Equal(["items", "total", "limit", "offset", "total_is_exact"], page.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.True(page.GetProperty("total_is_exact").GetBoolean());
            var card = Assert.Single(page.GetProperty("items").EnumerateArray());
            Assert.Equal(
                ["uuid", "slug", "name", "provider", "description", "category", "stats", "pricing", "is_premium", "preview_image", "runs_count", "rating_average", "reviews_count"],
                card.EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(["name", "handle"], card.GetProperty("provider").EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(["runs", "rating", "reviews_count", "users_30d", "success_rate"], card.GetProperty("stats").EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(["model", "credits_per_run", "credits_min", "credits_max"], card.GetProperty("pricing").EnumerateObject().Select(p => p.Name).ToArray());
            Assert.Equal(agent.ListingId, card.GetProperty("uuid").GetGuid());
            Assert.Equal(agent.ProviderHandle, card.GetProperty("provider").GetProperty("handle").GetString());
            Assert.Equal("variable_credits", card.GetProperty("pricing").GetProperty("model").GetString());
            Assert.Equal(1, card.GetProperty("stats").GetProperty("runs").GetInt64());
            Assert.Equal(1, card.GetProperty("runs_count").GetInt64());
            Assert.Equal(5.0, card.GetProperty("rating_average").GetDouble());
            Assert.Equal(1, card.GetProperty("reviews_count").GetInt32());
            Assert.True(card.GetProperty("is_premium").GetBoolean());
        }
    }

    [Fact]
    public async Task Details_ByUuidOrSlug_HaveTheProviderProfileVersionsPricingAndReviews()
    {
        var agent = await app.PublishedAgentAsync();
        var bySlug = await app.DetailsAsync(agent.Slug);
        var byUuid = await app.DetailsAsync(agent.ListingId.ToString());
        Assert.Equal(bySlug.GetProperty("uuid").GetGuid(), byUuid.GetProperty("uuid").GetGuid());
        Assert.Equal(agent.ListingId, bySlug.GetProperty("uuid").GetGuid());
        Assert.Equal(agent.ProviderHandle, bySlug.GetProperty("provider").GetProperty("handle").GetString());
        Assert.Equal("1.0.0", bySlug.GetProperty("current_version").GetString());
        Assert.Equal(5, bySlug.GetProperty("pricing").GetProperty("credits_per_run").GetInt64());
        Assert.Equal("<h2>What it does</h2>\n<p>Answers <strong>politely</strong>.</p>\n", bySlug.GetProperty("long_description_html").GetString());
        Assert.Equal(0, bySlug.GetProperty("reviews").GetProperty("total").GetInt32());

        await Http.AssertProblemAsync(await app.CreateClient().GetAsync("/api/marketplace/agents/no-such-agent/"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{Guid.NewGuid()}/"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Details_RenderMarkdownInert_ScriptsAndJavascriptLinksIncluded()
    {
        var markdown = """
            <script>alert('x')</script>
            <img src=x onerror="alert(1)">
            [click](javascript:alert(1)) [tab](java	script:alert(2)) [data](data:text/html;base64,PHNjcmlwdD4=) [ok](https://example.com/docs)
            ![pixel](javascript:alert(3))
            """;
        var agent = await app.PublishedAgentAsync(overrides: new() { ["description"] = markdown });

        var html = (await app.DetailsAsync(agent.Slug)).GetProperty("long_description_html").GetString()!;

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<img src=\"x\"", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("javascript:", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data:text/html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("&lt;script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("<a href=\"https://example.com/docs\" rel=\"nofollow ugc noopener noreferrer\">ok</a>", html, StringComparison.Ordinal);
        var response = await app.CreateClient().GetAsync($"/agents/{agent.Slug}");
        await Http.AssertStatusAsync(response, HttpStatusCode.OK);
        var page = await response.Content.ReadAsStringAsync();
        Assert.Contains("&lt;script&gt;alert", page, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>alert", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Details_ShowOnlyThisSitesImages_RemoteOnesBecomeLinks()
    {
        const string pixel = "https://tracker.example/pixel.gif?seller=1";
        var ownImage = $"/media/images/{Guid.NewGuid()}.png";
        var markdown = $"""
            ![Diagram]({ownImage})

            ![Open rate]({pixel}) ![]({pixel}) ![sneaky](//tracker.example/p.gif) ![slashed](/\tracker.example/p.gif) ![plain](http://tracker.example/p.gif)
            """;
        var agent = await app.PublishedAgentAsync(overrides: new() { ["description"] = markdown });

        var html = (await app.DetailsAsync(agent.Slug)).GetProperty("long_description_html").GetString()!;

        var images = Regex.Matches(html, "<img [^>]*src=\"([^\"]*)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal([ownImage], images);
        var pixelHref = System.Net.WebUtility.HtmlEncode(pixel);
        Assert.Contains($"<a href=\"{pixelHref}\" rel=\"nofollow ugc noopener noreferrer\">Open rate</a>", html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"{pixelHref}\" rel=\"nofollow ugc noopener noreferrer\">{pixelHref}</a>", html, StringComparison.Ordinal);
        Assert.Contains(">plain</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrivateListings_AreSeenOnlyByTheirProvider()
    {
        var agent = await app.PublishedAgentAsync(overrides: new() { ["visibility"] = "private" });

        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        await Http.AssertStatusAsync(await (await app.SignUpAsync()).Client.GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        Assert.Equal(0, (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(agent.Name)}"))).GetProperty("total").GetInt32());
        Assert.Equal("private", (await app.DetailsAsync(agent.Slug, agent.Seller.Client)).GetProperty("visibility").GetString());
    }

    [Fact]
    public async Task ProviderProfile_ListsItsActiveListings()
    {
        var agent = await app.PublishedAgentAsync();
        var profile = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/providers/@{agent.ProviderHandle}"));
        Assert.Equal(agent.Slug, Assert.Single(profile.GetProperty("listings").EnumerateArray()).GetProperty("slug").GetString());

        var html = await (await app.CreateClient().GetAsync($"/providers/{agent.ProviderHandle}")).Content.ReadAsStringAsync();
        Assert.Contains(agent.Name, html, StringComparison.Ordinal);
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync("/providers/nobody-here"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task MinRating_ComparesTheRatingAsDisplayed_WithOrWithoutWords()
    {
        var word = CatalogIntents.UniqueWord();
        var fourAndAHalf = await app.PublishedAgentAsync(name: $"Rated {word} high");
        var four = await app.PublishedAgentAsync(name: $"Rated {word} lower");
        foreach (var (agent, stars) in new[] { (fourAndAHalf, 5), (fourAndAHalf, 4), (four, 4), (four, 4) })
        {
            var buyer = await app.SignUpAsync();
            await app.RecordCustomerRunAsync(buyer, agent.ListingId);
            await Http.AssertStatusAsync(await buyer.Client.PostAsJsonAsync($"/api/marketplace/agents/{agent.ListingId}/reviews/", new { rating = stars, text = "ok" }), HttpStatusCode.Created);
        }

        async Task<string[]> SlugsAsync(string query) =>
            (await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/?{query}&limit=200"))).GetProperty("items").EnumerateArray()
                .Select(c => c.GetProperty("slug").GetString()!).Where(s => s == fourAndAHalf.Slug || s == four.Slug).ToArray();

        Assert.Equal([fourAndAHalf.Slug], await SlugsAsync($"search={word}&min_rating=4.5"));
        Assert.Equal([fourAndAHalf.Slug], await SlugsAsync($"search={word}&min_rating=4.41"));
        Assert.Equal([fourAndAHalf.Slug, four.Slug], await SlugsAsync($"search={word}&min_rating=4"));
        Assert.Equal([fourAndAHalf.Slug], await SlugsAsync("min_rating=4.5&sort=rating"));
        Assert.Equal(4.5, (await app.CardAsync(fourAndAHalf)).GetProperty("rating_average").GetDouble());
        Assert.Empty(await SlugsAsync($"search={word}&free=true&pricing_model=fixed_credits"));
    }

    [Fact]
    public async Task Categories_AreTheFourPills()
    {
        var categories = await Http.ReadJsonAsync(await app.CreateClient().GetAsync("/api/marketplace/categories/"));
        Assert.Equal(["Agents", "Apps", "Assistants", "Automations"], categories.EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToArray());
    }
}
