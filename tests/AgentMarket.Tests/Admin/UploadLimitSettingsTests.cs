using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Knowledge;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// The operator's upload limits and image quota (ADR-175): changed in the settings, they apply from the next request,
/// without a restart, everywhere a limit is read — the body cap in front of an upload, the services' check and its wording,
/// the pages' file inputs and the page answering a body too large.
/// </summary>
public sealed class UploadLimitSettingsTests(GatewayApp app) : IClassFixture<GatewayApp>, IAsyncLifetime
{
    const int Kilobyte = 1024;
    const int Megabyte = 1024 * 1024;
    const int MultipartAllowance = 64 * Kilobyte;

    /// <summary>
    /// Every test starts from the configured limits: the settings are the fixture's, shared by the tests of this class, and
    /// one test's small quota or flow limit must not refuse another's uploads.
    /// </summary>
    public async ValueTask InitializeAsync()
    {
        var marketplace = new AgentMarket.Providers.MarketplaceOptions();
        await SetAsync(await app.OperatorAsync(), new
        {
            max_image_bytes = marketplace.MaxImageBytes,
            max_flow_bytes = marketplace.MaxFlowBytes,
            max_training_file_bytes = new AgentMarket.Knowledge.KnowledgeOptions().MaxFileBytes,
            max_images_per_organization = marketplace.MaxImagesPerOrganization,
            max_image_storage_bytes_per_organization = marketplace.MaxImageStorageBytesPerOrganization,
        });
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [Fact]
    public async Task ARaisedImageLimit_LetsTheNextUploadThroughTheBodyCap_AndALoweredOne_RefusesItInItsWords()
    {
        var operatorClient = await app.OperatorAsync();
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);
        var publishPage = $"/provider/agents/{agent}/publish";

        var raised = await SetAsync(operatorClient, new { max_image_bytes = 3 * Megabyte });
        Assert.Equal(3 * Megabyte, raised.GetProperty("max_image_bytes").GetInt64());
        // Past the 2 MB of configuration and its body cap: refused by both before the change.
        var large = ImageOf(2 * Megabyte + MultipartAllowance + 100 * Kilobyte);
        await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(large, "large.png", "image/png")), HttpStatusCode.Created);
        Assert.Contains("data-max-bytes=\"3145728\" data-too-large=\"Images can be at most 3 MB.\"", await seller.Client.HtmlAsync(publishPage), StringComparison.Ordinal);

        await SetAsync(operatorClient, new { max_image_bytes = 64 * Kilobyte });
        var refused = await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.File(ImageOf(100 * Kilobyte), "over.png", "image/png")),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Equal("Images can be at most 64 KB.", refused.GetProperty("detail").GetString());
        Assert.Contains("data-max-bytes=\"65536\" data-too-large=\"Images can be at most 64 KB.\"", await seller.Client.HtmlAsync(publishPage), StringComparison.Ordinal);
        var pastTheCap = await seller.Client.SubmitWithFileAsync(publishPage, "publish-listing", new(), "image", ImageOf(64 * Kilobyte + MultipartAllowance + 1), "over.png");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, pastTheCap.StatusCode);
        Assert.Contains("Choose a smaller file</a>: images up to 64 KB.", await pastTheCap.HtmlAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoweredFlowAndTrainingFileLimits_AreWhatImportsUploadsAndTheirPagesSay()
    {
        var operatorClient = await app.OperatorAsync();
        // Subscribed first: the agent's flow (from a template) is itself held to the flow limit.
        var subscribed = await app.SubscribedAsync(await app.KnowledgeAgentAsync());
        await SetAsync(operatorClient, new { max_flow_bytes = 2 * Kilobyte, max_training_file_bytes = 4 * Kilobyte });

        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        var report = await Http.ReadJsonAsync(await seller.UploadFlowAsync(agent, CatalogIntents.ExampleFlow("BasicChatwithPromptandHistory.json"), action: "validate_flow"));
        Assert.False(report.GetProperty("runnable").GetBoolean());
        Assert.Contains(report.GetProperty("issues").EnumerateArray(),
            i => i.GetProperty("code").GetString() == "flow_too_large" && i.GetProperty("message").GetString() == "Flow files can be at most 2 KB.");
        Assert.Contains("data-max-bytes=\"2048\" data-too-large=\"Flow files can be at most 2 KB.\"",
            await seller.Client.HtmlAsync($"/provider/agents/{agent}/import"), StringComparison.Ordinal);

        var tab = await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/configure/training");
        Assert.Contains("data-max-bytes=\"4096\" data-too-large=\"Training files can be at most 4 KB.\"", tab, StringComparison.Ordinal);
        Assert.Contains("TXT, Markdown, HTML, PDF, DOCX or CSV, up to 4 KB.</small>", tab, StringComparison.Ordinal);
        var knowledgeBase = await subscribed.Buyer.CreateKnowledgeBaseAsync();
        var refused = await Http.AssertProblemAsync(
            await subscribed.Buyer.UploadAsync(knowledgeBase, "notes.txt", TrainingFiles.Utf8(new string('a', 4 * Kilobyte + 1)), "text/plain"),
            HttpStatusCode.RequestEntityTooLarge, "payload_too_large");
        Assert.Equal(4 * Kilobyte, refused.GetProperty("max_bytes").GetInt64());
        Assert.Equal("Training files can be at most 4 KB.", refused.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheImageQuota_SetByTheOperator_IsWhatTheNextUploadAndTheLibraryCountAgainst()
    {
        var operatorClient = await app.OperatorAsync();
        var (seller, _) = await app.SellerAsync();
        await SetAsync(operatorClient, new { max_images_per_organization = 2, max_image_storage_bytes_per_organization = 10 * Kilobyte });
        for (var i = 0; i < 2; i++)
        {
            await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        }
        var full = await Http.AssertProblemAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Forbidden, "image_limit_reached");
        Assert.StartsWith("An organization can keep 2 images and 10 KB of them;", full.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var library = await Http.ReadJsonAsync(await seller.Client.GetAsync("/api/catalog-images/"));
        Assert.Equal(2, library.GetProperty("max_images").GetInt32());
        Assert.Equal(10 * Kilobyte, library.GetProperty("max_bytes").GetInt64());

        await SetAsync(operatorClient, new { max_images_per_organization = 3 });
        await Http.AssertStatusAsync(await seller.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        var tooFew = await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { max_images_per_organization = 0 }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("Use a number between 1 and 100,000.", tooFew.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadLimits_OutsideWhatConfigurationAllows_OrNotNumbers_AreRefused_AndNothingChanges()
    {
        var operatorClient = await app.OperatorAsync();
        var before = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));

        var tooSmall = await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { max_image_bytes = 1000 }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("between 1 KB and 50 MB", tooSmall.GetRawText(), StringComparison.Ordinal);
        await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { max_flow_bytes = 101L * Megabyte }),
            HttpStatusCode.BadRequest, "validation_failed");
        var negative = await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { max_training_file_bytes = -1 }),
            HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("between 1 KB and 1 GB", negative.GetRawText(), StringComparison.Ordinal);
        var words = await operatorClient.PatchAsync("/api/admin/settings", JsonContent.Create(new { max_training_file_bytes = "big" }));
        Assert.Equal(HttpStatusCode.BadRequest, words.StatusCode);

        var after = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        foreach (var limit in new[] { "max_image_bytes", "max_flow_bytes", "max_training_file_bytes" })
        {
            Assert.Equal(before.GetProperty(limit).GetInt64(), after.GetProperty(limit).GetInt64());
        }
        var stranger = await app.SignUpAsync();
        await Http.AssertStatusAsync(await stranger.Client.PatchAsJsonAsync("/api/admin/settings", new { max_image_bytes = 4 * Megabyte }), HttpStatusCode.NotFound);
        Assert.Equal(before.GetProperty("max_image_bytes").GetInt64(),
            (await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"))).GetProperty("max_image_bytes").GetInt64());
    }

    [Fact]
    public async Task TheSettingsForm_TakesSizesInMegabytes_LeavesUntouchedOnesExact_AndRefusesWordsByTheField()
    {
        var operatorClient = await app.OperatorAsync();
        // A limit megabytes cannot say exactly: saving the form without touching it must not round it.
        await SetAsync(operatorClient, new { max_image_bytes = 1_000_000 });
        var settings = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        var page = await operatorClient.HtmlAsync("/admin/settings");
        Assert.Contains("id=\"max_image_mb\" name=\"max_image_mb\" type=\"number\" step=\"any\" min=\"0.000977\" max=\"50\" required value=\"0.953674\"", page, StringComparison.Ordinal);

        var saved = await operatorClient.SubmitAsync("/admin/settings", "settings", Form(settings, new() { ["max_image_mb"] = "0.953674", ["max_flow_mb"] = "1.5" }));
        PageForms.AssertRedirect(saved, "/admin/settings?done=saved");
        var after = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        Assert.Equal(1_000_000, after.GetProperty("max_image_bytes").GetInt64());
        Assert.Equal(1_572_864, after.GetProperty("max_flow_bytes").GetInt64());

        var words = await operatorClient.SubmitAsync("/admin/settings", "settings", Form(after, new() { ["max_flow_mb"] = "3", ["max_training_file_mb"] = "lots" }));
        Assert.Equal(HttpStatusCode.OK, words.StatusCode);
        var html = WebUtility.HtmlDecode(await words.Content.ReadAsStringAsync());
        Assert.Contains("The settings were not saved. Largest training file: Use a number of megabytes, like 2 or 0.5.", html, StringComparison.Ordinal);
        Assert.Contains("value=\"lots\" aria-describedby=\"max_training_file_mb_help\" aria-invalid=\"true\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"3\" aria-describedby=\"max_flow_mb_help\"", html, StringComparison.Ordinal);

        var fraction = await operatorClient.SubmitAsync("/admin/settings", "settings", Form(after, new() { ["max_images_per_organization"] = "2.5" }));
        Assert.Contains("The settings were not saved. Images each organization keeps: Use a whole number, like 200.",
            WebUtility.HtmlDecode(await fraction.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        var tooLarge = await operatorClient.SubmitAsync("/admin/settings", "settings", Form(after, new() { ["max_image_mb"] = "51" }));
        Assert.Contains("Largest image: Use a size between 1 KB and 50 MB", WebUtility.HtmlDecode(await tooLarge.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        var unchanged = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        Assert.Equal(after.GetRawText(), unchanged.GetRawText());
    }

    static async Task<JsonElement> SetAsync(HttpClient operatorClient, object limits) =>
        await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", limits));

    /// <summary>A valid image (its header says one pixel) of <paramref name="size"/> bytes.</summary>
    static byte[] ImageOf(int size)
    {
        var image = new byte[size];
        Images.OnePixelPng.CopyTo(image, 0);
        return image;
    }

    /// <summary>The settings form as an operator posts it: the stored settings, with <paramref name="typed"/> over them.</summary>
    static Dictionary<string, string> Form(JsonElement settings, Dictionary<string, string> typed)
    {
        var form = new Dictionary<string, string>
        {
            ["site_name"] = settings.GetProperty("site_name").GetString()!,
            ["tagline"] = settings.GetProperty("tagline").GetString()!,
            ["brand_color"] = settings.GetProperty("brand_color").GetString()!,
            ["footer_text"] = settings.GetProperty("footer_text").GetString()!,
            ["auto_approve_providers"] = settings.GetProperty("auto_approve_providers").GetBoolean() ? "true" : "",
            ["auto_approve_listings"] = settings.GetProperty("auto_approve_listings").GetBoolean() ? "true" : "",
        };
        foreach (var (name, value) in typed)
        {
            form[name] = value;
        }
        return form;
    }
}
