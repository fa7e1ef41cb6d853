using System.Net;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

public class HostTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task Health_And_Readiness_AreOk_AfterMigrations()
    {
        var client = app.CreateClient();
        Assert.Equal("ok", (await Http.ReadJsonAsync(await client.GetAsync("/healthz"))).GetProperty("status").GetString());
        Assert.Equal("ready", (await Http.ReadJsonAsync(await client.GetAsync("/readyz"))).GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheApi_InSnakeCase_AndTheReferencePageServes()
    {
        var client = app.CreateClient();
        var document = await Http.ReadJsonAsync(await client.GetAsync("/openapi/v1.json"));
        Assert.Equal("AgentMarket API", document.GetProperty("info").GetProperty("title").GetString());
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/auth/signup", out _));
        Assert.True(paths.TryGetProperty("/api/providers", out _) || paths.TryGetProperty("/api/providers/", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas").ToString();
        Assert.Contains("\"is_default\"", schemas, StringComparison.Ordinal);

        var page = await client.GetAsync("/api/docs/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("AgentMarket API reference", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("/openapi/v1.json", await (await client.GetAsync("/api/docs/index.js")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownApiRoute_IsAProblem_UnknownPage_IsAFriendlyPage()
    {
        var client = app.CreateClient();
        await Http.AssertProblemAsync(await client.GetAsync("/api/does-not-exist"), HttpStatusCode.NotFound, "not_found");
        var page = await client.GetAsync("/no/such/page");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Contains("Page not found", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MalformedQueryValues_AreIgnoredByPages_NotA500()
    {
        var user = await app.SignUpAsync();
        foreach (var url in new[] { "/?page=abc", "/?page=99999999999", "/?page=2147483647", "/credits?page=abc", "/receipts?page=-1",
            "/credits/success?payment=garbage", "/settings/webhooks?endpoint=zzz&delivery=zzz" })
        {
            var response = await user.Client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url} answered {(int)response.StatusCode}");
            Assert.StartsWith("text/html", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ATooLargeUploadToAPage_AnswersAPage_NotTheApisJson()
    {
        var user = await app.SignUpAsync();
        using var form = new MultipartFormDataContent { { new ByteArrayContent(new byte[6 * 1024 * 1024]), "file", "flow.json" } };
        var response = await user.Client.PostAsync("/account/password", form);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("larger than this form accepts", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_NameAFaviconThatExists()
    {
        var client = app.CreateClient();
        var html = await (await client.GetAsync("/")).Content.ReadAsStringAsync();
        Assert.Contains("<link rel=\"icon\" href=\"/favicon.svg\" />", html, StringComparison.Ordinal);
        var icon = await client.GetAsync("/favicon.svg");
        Assert.Equal(HttpStatusCode.OK, icon.StatusCode);
        Assert.Equal("image/svg+xml", icon.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ProtectedPage_RedirectsVisitorsToSignIn()
    {
        var response = await app.CreateClient().GetAsync("/organization");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }
}
