using System.Text.RegularExpressions;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>The browser app with a 64 KB image limit, so an over-limit file is small.</summary>
public sealed class SmallImagesBrowserApp : BrowserApp
{
    public const int MaxImageBytes = 64 * 1024;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("Marketplace:MaxImageBytes", MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture))];
}

/// <summary>A seller in Chromium chooses a file over the field's limit: the field says so and the form is not sent.</summary>
public class UploadLimitBrowserTests(SmallImagesBrowserApp app) : IClassFixture<SmallImagesBrowserApp>
{
    [Fact]
    public async Task PublishPage_AnImageOverTheLimit_IsRefusedByItsField_WithoutSending_AndASmallerOneClearsIt()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var directory = Directory.CreateTempSubdirectory("upload-limit-");
        try
        {
            var big = Path.Combine(directory.FullName, "big.png");
            var small = Path.Combine(directory.FullName, "small.png");
            var oversized = new byte[SmallImagesBrowserApp.MaxImageBytes + 1];
            Images.OnePixelPng.CopyTo(oversized, 0);
            await File.WriteAllBytesAsync(big, oversized);
            await File.WriteAllBytesAsync(small, Images.OnePixelPng);

            await using var context = await app.Browser.NewContextAsync();
            var page = await context.NewPageAsync();
            await page.GotoAsync(app.BaseUrl + "/signin");
            await page.GetByLabel("Email").FillAsync(seller.Email);
            await page.GetByLabel("Password").FillAsync(seller.Password);
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            await page.WaitForPageAsync(u => !u.Contains("/signin", StringComparison.Ordinal));
            var publish = $"{app.BaseUrl}/provider/agents/{agent}/publish";
            await page.GotoAsync(publish);
            await page.Locator("#listing-summary").FillAsync("Answers questions.");
            var posts = 0;
            page.Request += (_, request) => posts += request.Method == "POST" ? 1 : 0;

            var input = page.Locator("#listing-image");
            var message = page.Locator("[data-too-large-message]");
            await input.SetInputFilesAsync(big);
            await Assertions.Expect(message).ToHaveTextAsync("Images can be at most 64 KB.");
            await Assertions.Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
            await Assertions.Expect(input).ToHaveAttributeAsync("aria-describedby", "listing-image-too-large");
            await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
            await page.WaitForTimeoutAsync(500);
            Assert.Equal((0, publish), (posts, page.Url));

            await input.SetInputFilesAsync(small);
            await Assertions.Expect(message).ToBeHiddenAsync();
            await Assertions.Expect(input).Not.ToHaveAttributeAsync("aria-invalid", new Regex(".*"));
            await page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true }).ClickAsync();
            await page.WaitForURLAsync(new Regex(Regex.Escape($"/provider/agents/{agent}?done=published") + "$"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
