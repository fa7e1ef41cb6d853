using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Catalog;

/// <summary>
/// The journey through the UI alone: a seller turns Basic Prompting.json into a public listing, and a visitor
/// finds it with the search box and the category pill.
/// </summary>
public class SellerToVisitorJourneyTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task Seller_ImportsAndPublishesAFlow_AndAVisitorFindsIt()
    {
        var word = CatalogIntents.UniqueWord();
        var agentName = $"Haiku Helper {word}";
        var started = DateTime.UtcNow;

        await using (var sellerContext = await app.Browser.NewContextAsync())
        {
            var seller = await sellerContext.NewPageAsync();
            await seller.GotoAsync(app.BaseUrl + "/signup");
            await seller.GetByLabel("Name").FillAsync("Sam Seller");
            await seller.GetByLabel("Email").FillAsync($"sam-{Guid.NewGuid():N}@tests.example");
            await seller.GetByLabel("Password").FillAsync("a very long password");
            await seller.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
            await seller.WaitForPageAsync(app.BaseUrl + "/my-agents");

            await seller.GetByRole(AriaRole.Link, new() { Name = "Sell", Exact = true }).ClickAsync();
            await seller.GetByLabel("Handle").FillAsync($"haiku-{word}");
            await seller.GetByLabel("Display name").FillAsync("Haiku House");
            await seller.GetByRole(AriaRole.Button, new() { Name = "Become a provider" }).ClickAsync();
            await seller.GetByRole(AriaRole.Link, new() { Name = "My provider agents" }).First.ClickAsync();

            await seller.GetByLabel("Name").FillAsync(agentName);
            await seller.GetByLabel("Category").SelectOptionAsync("assistants");
            await seller.GetByRole(AriaRole.Button, new() { Name = "Create agent" }).ClickAsync();

            await seller.GetByLabel("Langflow export").SetInputFilesAsync(CatalogIntents.ExampleFlowPath("Basic Prompting.json"));
            await seller.GetByRole(AriaRole.Button, new() { Name = "Check compatibility" }).ClickAsync();
            await Assertions.Expect(seller.GetByText("Runs on this marketplace.")).ToBeVisibleAsync();
            await Assertions.Expect(seller.GetByRole(AriaRole.Cell, new() { Name = "LanguageModelComponent-LsJMR" })).ToBeVisibleAsync();

            // The checked file is still chosen: importing it takes one click.
            Assert.Equal("Basic Prompting.json", await seller.GetByLabel("Langflow export").EvaluateAsync<string>("input => input.files[0]?.name ?? ''"));
            await seller.GetByLabel("What changed").FillAsync("First release.");
            await seller.GetByRole(AriaRole.Button, new() { Name = "Import as a new version" }).ClickAsync();
            await Assertions.Expect(seller.GetByText("Version 1.0.0 is imported and now current.")).ToBeVisibleAsync();

            await seller.GetByRole(AriaRole.Link, new() { Name = "publish", Exact = true }).ClickAsync();
            await seller.GetByLabel("One-line description").FillAsync($"Writes a haiku about anything you ask. {word}");
            await seller.GetByLabel("Full description").FillAsync("## Haiku on demand\nSeventeen syllables, every time.");
            await seller.GetByLabel("Tags").FillAsync("poetry, writing");
            await seller.GetByLabel("Pricing").SelectOptionAsync("fixed_credits");
            await seller.GetByLabel("Credits per run", new() { Exact = true }).FillAsync("3");
            await seller.GetByRole(AriaRole.Button, new() { Name = "Publish" }).ClickAsync();
            await Assertions.Expect(seller.GetByText("Published: visitors can find it in the marketplace now.")).ToBeVisibleAsync();
            await Assertions.Expect(seller.GetByText("active", new() { Exact = true })).ToBeVisibleAsync();
        }
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(10));

        await using var visitorContext = await app.Browser.NewContextAsync();
        var visitor = await visitorContext.NewPageAsync();
        await visitor.GotoAsync(app.BaseUrl + "/");
        var search = visitor.GetByLabel("Search agents");
        await search.PressSequentiallyAsync("haiku hel");
        // Suggestions arrive as the visitor types.
        await Assertions.Expect(visitor.Locator($"#catalog-suggestions option[value='{agentName}']")).ToHaveCountAsync(1);
        await search.PressAsync("Enter");
        var card = visitor.GetByRole(AriaRole.Article).Filter(new() { HasText = agentName });
        await Assertions.Expect(card).ToBeVisibleAsync();
        await Assertions.Expect(card).ToContainTextAsync("3 credits/run");
        await Assertions.Expect(card).ToContainTextAsync($"@haiku-{word}");

        await visitor.GotoAsync(app.BaseUrl + "/");
        await visitor.GetByRole(AriaRole.Navigation, new() { Name = "Categories" }).GetByRole(AriaRole.Link, new() { Name = "Assistants" }).ClickAsync();
        await Assertions.Expect(visitor.GetByRole(AriaRole.Article).Filter(new() { HasText = agentName })).ToBeVisibleAsync();
        await visitor.GetByRole(AriaRole.Navigation, new() { Name = "Categories" }).GetByRole(AriaRole.Link, new() { Name = "Automations" }).ClickAsync();
        await Assertions.Expect(visitor.GetByRole(AriaRole.Article).Filter(new() { HasText = agentName })).ToHaveCountAsync(0);

        await visitor.GotoAsync(app.BaseUrl + "/");
        await visitor.GetByLabel("Search agents").FillAsync(word);
        await visitor.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await visitor.GetByRole(AriaRole.Article).Filter(new() { HasText = agentName }).GetByRole(AriaRole.Link, new() { Name = "Details" }).ClickAsync();
        await Assertions.Expect(visitor.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync(agentName);
        await Assertions.Expect(visitor.GetByRole(AriaRole.Heading, new() { Name = "Haiku on demand" })).ToBeVisibleAsync();
        await Assertions.Expect(visitor.GetByText("First release.")).ToBeVisibleAsync();
    }
}
