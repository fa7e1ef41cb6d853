using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>The browser app with 64 KB image and training-file limits, so an over-limit file is small.</summary>
public sealed class SmallUploadsBrowserApp : BrowserApp
{
    public const int MaxImageBytes = 64 * 1024;
    public const int MaxTrainingFileBytes = 64 * 1024;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Marketplace:MaxImageBytes", MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Knowledge:MaxFileBytes", MaxTrainingFileBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

/// <summary>A user in Chromium chooses a file over the field's limit: the field says so and the form is not sent.</summary>
public class UploadLimitBrowserTests(SmallUploadsBrowserApp app) : IClassFixture<SmallUploadsBrowserApp>
{
    [Fact]
    public async Task PublishPage_AnImageOverTheLimit_IsRefusedByItsField_WithoutSending_AndASmallerOneClearsIt()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        using var files = new UploadFiles();
        var big = files.Write("big.png", Oversized(Images.OnePixelPng, SmallUploadsBrowserApp.MaxImageBytes));
        var small = files.Write("small.png", Images.OnePixelPng);

        await using var context = await app.Browser.NewContextAsync();
        var page = await app.SignedInPageAsync(context, seller);
        var publish = $"{app.BaseUrl}/provider/agents/{agent}/publish";
        await page.GotoAsync(publish);
        await page.Locator("#listing-summary").FillAsync("Answers questions.");

        var input = page.Locator("#listing-image");
        var submit = page.GetByRole(AriaRole.Button, new() { Name = "Publish", Exact = true });
        await AssertRefusedAtTheFieldAsync(page, input, big, "Images can be at most 64 KB.", "listing-image-too-large", submit);

        await ChooseAcceptedAsync(page, input, small);
        await submit.ClickAsync();
        await page.WaitForURLAsync(new Regex(Regex.Escape($"/provider/agents/{agent}?done=published") + "$"));
    }

    [Fact]
    public async Task TrainingTab_AFileOverTheLimit_IsRefusedByItsField_WithoutSending_AndASmallerOneIsUploaded()
    {
        var subscribed = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        using var files = new UploadFiles();
        var big = files.Write("big.md", Oversized("# Returns\n\n"u8.ToArray(), SmallUploadsBrowserApp.MaxTrainingFileBytes));
        var small = files.Write("returns.md", "# Returns\n\nReturns are accepted within 30 days with the receipt."u8.ToArray());

        await using var context = await app.Browser.NewContextAsync();
        var page = await app.SignedInPageAsync(context, subscribed.Buyer);
        var tab = $"{app.BaseUrl}/my-agents/{subscribed.Config}/configure/training";
        await page.GotoAsync(tab);

        var input = page.Locator("#training-file");
        var upload = page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true });
        await AssertRefusedAtTheFieldAsync(page, input, big, "Training files can be at most 64 KB.", "training-file-help training-file-too-large", upload);
        Assert.Contains("Nothing yet.", await subscribed.Buyer.Client.HtmlAsync(tab), StringComparison.Ordinal);

        await ChooseAcceptedAsync(page, input, small);
        await upload.ClickAsync();
        await page.WaitForURLAsync(new Regex(Regex.Escape($"/my-agents/{subscribed.Config}/configure/training?training=added") + "$"));
        await Assertions.Expect(page.Locator("[data-training-documents]")).ToContainTextAsync("returns.md");
    }

    [Fact]
    public async Task ProviderProfile_AnAvatarOverTheLimit_IsRefusedByItsField_WithoutSending_AndASmallerOneIsSaved()
    {
        var (seller, _) = await app.SellerAsync();
        using var files = new UploadFiles();
        var big = files.Write("big.png", Oversized(Images.OnePixelPng, SmallUploadsBrowserApp.MaxImageBytes));
        var small = files.Write("me.png", Images.OnePixelPng);

        await using var context = await app.Browser.NewContextAsync();
        var page = await app.SignedInPageAsync(context, seller);
        var dashboard = $"{app.BaseUrl}/provider";
        await page.GotoAsync(dashboard);

        var input = page.Locator("#profile-avatar");
        var save = page.GetByRole(AriaRole.Button, new() { Name = "Save the profile", Exact = true });
        await AssertRefusedAtTheFieldAsync(page, input, big, "Images can be at most 64 KB.", "profile-avatar-too-large", save);
        Assert.Null(ProposedOrLiveAvatar(await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))));

        await ChooseAcceptedAsync(page, input, small);
        var saved = await page.RunAndWaitForResponseAsync(() => save.ClickAsync(), response => response.Request.Method == "POST");
        Assert.Equal(302, saved.Status);
        Assert.NotNull(ProposedOrLiveAvatar(await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/providers/mine"))));
    }

    /// <summary>The avatar the profile shows or awaits review with (ADR-170), or null when it has none.</summary>
    static string? ProposedOrLiveAvatar(JsonElement mine) =>
        mine.GetProperty("avatar_url").GetString()
        ?? (mine.TryGetProperty("pending_change", out var change) && change.ValueKind == JsonValueKind.Object ? change.GetProperty("avatar_url").GetString() : null);

    /// <summary>
    /// Chooses <paramref name="file"/>, over the limit, in <paramref name="input"/> and presses <paramref name="submit"/>: the
    /// field says <paramref name="refusal"/> and is described by it, and the page sends nothing and stays where it is.
    /// </summary>
    static async Task AssertRefusedAtTheFieldAsync(IPage page, ILocator input, string file, string refusal, string describedBy, ILocator submit)
    {
        var url = page.Url;
        var posts = 0;
        page.Request += (_, request) => posts += request.Method == "POST" ? 1 : 0;
        await input.SetInputFilesAsync(file);
        await Assertions.Expect(page.Locator("[data-too-large-message]")).ToHaveTextAsync(refusal);
        await Assertions.Expect(input).ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(input).ToHaveAttributeAsync("aria-describedby", describedBy);
        await submit.ClickAsync();
        await page.WaitForTimeoutAsync(500);
        Assert.Equal((0, url), (posts, page.Url));
    }

    /// <summary>Chooses <paramref name="file"/>, within the limit, in <paramref name="input"/>: the refusal goes away.</summary>
    static async Task ChooseAcceptedAsync(IPage page, ILocator input, string file)
    {
        await input.SetInputFilesAsync(file);
        await Assertions.Expect(page.Locator("[data-too-large-message]")).ToBeHiddenAsync();
        await Assertions.Expect(input).Not.ToHaveAttributeAsync("aria-invalid", new Regex(".*"));
    }

    /// <summary><paramref name="start"/> padded to one byte over <paramref name="limit"/>.</summary>
    static byte[] Oversized(byte[] start, int limit)
    {
        var oversized = new byte[limit + 1];
        start.CopyTo(oversized, 0);
        return oversized;
    }

    /// <summary>Files for the browser to choose, deleted with the test.</summary>
    sealed class UploadFiles : IDisposable
    {
        readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("upload-limit-");

        public string Write(string name, byte[] content)
        {
            var path = Path.Combine(_directory.FullName, name);
            File.WriteAllBytes(path, content);
            return path;
        }

        public void Dispose() => _directory.Delete(recursive: true);
    }
}
