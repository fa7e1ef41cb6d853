using System.Net;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

/// <summary>
/// A form post whose body is too large for the page to read (over the file limit plus the multipart allowance) is
/// refused before the page sees it: the answer names the page's limit and links back to the page, while the API keeps its
/// problem JSON. The page's file input carries the same limit and wording for its script.
/// </summary>
public class OverLimitUploadPageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    const int MultipartAllowance = 64 * 1024;

    [Fact]
    public async Task PublishPage_ABodyPastTheImageCap_Answers413_NamingTheLimit_AndLinkingBackToThePage()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var page = $"/provider/agents/{agent}/publish?from=rejected";
        Assert.Contains("data-max-bytes=\"2097152\" data-too-large=\"Images can be at most 2 MB.\"", await seller.Client.HtmlAsync(page), StringComparison.Ordinal);
        var huge = new byte[2 * 1024 * 1024 + MultipartAllowance + 1];
        Images.OnePixelPng.CopyTo(huge, 0);

        var refused = await seller.Client.SubmitWithFileAsync(page, "publish-listing", new(), "image", huge, "huge.png");

        await AssertRefusedPageAsync(refused, page, "images up to 2 MB.");
        await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(huge, "huge.png", "image/png")),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    [Fact]
    public async Task ImportPage_ABodyPastTheFlowCap_Answers413_NamingTheLimit_AndLinkingBackToThePage()
    {
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var page = $"/provider/agents/{agent}/import";
        Assert.Contains("data-max-bytes=\"5242880\" data-too-large=\"Flow files can be at most 5 MB.\"", await seller.Client.HtmlAsync(page), StringComparison.Ordinal);
        var huge = new byte[5 * 1024 * 1024 + MultipartAllowance + 1];
        Array.Fill(huge, (byte)' ');

        var refused = await seller.Client.SubmitWithFileAsync(page, "import-flow", new() { ["intent"] = "import" }, "file", huge, "huge.json");

        await AssertRefusedPageAsync(refused, page, "flow files up to 5 MB.");
        await Http.AssertProblemAsync(await seller.UploadFlowAsync(agent, huge), HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
    }

    static async Task AssertRefusedPageAsync(HttpResponseMessage refused, string page, string limit)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("text/html", refused.Content.Headers.ContentType?.MediaType);
        var html = await refused.HtmlAsync();
        Assert.Contains($"<a href=\"{page}\" data-back-to-form>Choose a smaller file</a>: {limit}", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Go back", html, StringComparison.Ordinal);
    }
}
