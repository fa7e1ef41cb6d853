using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Credits;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>
/// A seller in Chromium prices a listing: only the chosen model's amounts show, and the price line follows the typing; and
/// declares configurable fields: a field shows choice options or a number range only for that kind.
/// </summary>
public class PublishFormBrowserTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task PriceInputs_FollowThePricingModel_AndThePriceLineSaysWhatTheSellerEarns()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var url = $"/provider/agents/{agent}/publish";
        var serverLine = PageForms.Marked(await seller.Client.HtmlAsync(url), "data-price-meaning");
        var credits = app.Services.GetRequiredService<IOptions<CreditsOptions>>().Value;

        await using var context = await app.Browser.NewContextAsync();
        var page = await app.SignedInPageAsync(context, seller);
        await page.GotoAsync(app.BaseUrl + url);

        // The script writes the sentence the server wrote for the same values.
        var meaning = page.Locator("[data-price-meaning]");
        await Assertions.Expect(page.GetByLabel("Credits per run", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(meaning).ToHaveTextAsync(serverLine);
        await Assertions.Expect(page.Locator("#credits-min")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#credits-max")).ToBeHiddenAsync();

        await page.GetByLabel("Pricing", new() { Exact = true }).SelectOptionAsync("variable_credits");
        await Assertions.Expect(page.Locator("#credits-per-run")).ToBeHiddenAsync();
        await page.Locator("#credits-min").FillAsync("10");
        await page.Locator("#credits-max").FillAsync("250");
        await Assertions.Expect(meaning).ToContainTextAsync($"{Money.Format(10)}) to 250 credits ({Money.Format(250)}) a run");
        await Assertions.Expect(meaning).ToContainTextAsync($"{250 - credits.Split.Fee(250)} credits ({Money.Format(250 - credits.Split.Fee(250))}) a run");

        await page.GetByLabel("Pricing", new() { Exact = true }).SelectOptionAsync("subscription");
        await Assertions.Expect(page.GetByLabel("Credits per month", new() { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#credits-min")).ToBeHiddenAsync();
        await page.GetByLabel("Credits per month", new() { Exact = true }).FillAsync("1999");
        await Assertions.Expect(meaning).ToContainTextAsync(new Regex(Regex.Escape($"{1_999.ToString("N0", CultureInfo.InvariantCulture)} credits ({Money.Format(1_999)}) a month")));

        await page.GetByLabel("Pricing", new() { Exact = true }).SelectOptionAsync("free");
        await Assertions.Expect(page.Locator("#credits-per-run")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#credits-min")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task FieldsPage_ShowsOptionsOnlyForAChoice_AndARangeOnlyForANumber()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);

        await using var context = await app.Browser.NewContextAsync();
        var page = await app.SignedInPageAsync(context, seller);
        await page.GotoAsync(app.BaseUrl + $"/provider/agents/{agent}/fields");

        var kind = page.Locator("[data-field-kind='0']");
        var options = page.Locator("#options-0");
        var minimum = page.Locator("input[name='min-0']");
        await kind.SelectOptionAsync("text");
        await Assertions.Expect(options).ToBeHiddenAsync();
        await Assertions.Expect(minimum).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("[data-extras-of='0']")).ToBeHiddenAsync();

        await kind.SelectOptionAsync("choice");
        await Assertions.Expect(options).ToBeVisibleAsync();
        await Assertions.Expect(minimum).ToBeHiddenAsync();

        await kind.SelectOptionAsync("number");
        await Assertions.Expect(minimum).ToBeVisibleAsync();
        await Assertions.Expect(options).ToBeHiddenAsync();
    }

    [Fact]
    public async Task ImageLibrary_OnAPhone_ShowsWhatUsesEachImage_AndDeletesAnUnusedOne()
    {
        var (seller, _) = await app.SellerAsync();
        var preview = await UploadAsync(seller);
        var replaced = await UploadAsync(seller);
        var name = $"Pictured agent {CatalogIntents.UniqueWord()}";
        var agent = await seller.CreateAgentAsync(name);
        await seller.ImportExampleAsync(agent);
        var body = CatalogIntents.PublishBody($"pictured-{Guid.NewGuid():N}"[..20], new() { ["preview_image"] = preview.ToString() });
        await Http.AssertStatusAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/", body), HttpStatusCode.Created);

        await using var context = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        var page = await app.SignedInPageAsync(context, seller);
        await page.GotoAsync(app.BaseUrl + $"/provider/agents/{agent}/publish");
        var library = page.Locator("section.image-library");
        await Assertions.Expect(library.Locator($"[data-image='{preview}']")).ToContainTextAsync($"Used by {name}");
        await Assertions.Expect(library.Locator($"[data-image='{preview}'] button")).ToHaveCountAsync(0);
        await Assertions.Expect(library.Locator($"[data-image='{replaced}']")).ToContainTextAsync("Unused");
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= 390"), "the publish page is wider than a phone");

        await library.Locator($"[data-image='{replaced}'] button").ClickAsync();
        await Assertions.Expect(library.Locator($"[data-image='{replaced}']")).ToHaveCountAsync(0);
        await Assertions.Expect(library.Locator($"[data-image='{preview}']")).ToHaveCountAsync(1);
        var kept = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"));
        Assert.Equal([preview], kept.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("uuid").GetGuid()).ToArray());
    }

    static async Task<Guid> UploadAsync(TestUser seller) =>
        (await Http.ReadJsonAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
}
