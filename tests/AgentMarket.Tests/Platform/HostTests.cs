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
    public async Task ProtectedPage_RedirectsVisitorsToSignIn()
    {
        var response = await app.CreateClient().GetAsync("/organization");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/signin", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
    }
}
