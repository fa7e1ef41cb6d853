using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Providers;

/// <summary>One provider cannot read or change another's agents, versions, fields, listing or reviews' replies.</summary>
public class SellerIsolationTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task AnotherProvider_GetsNotFound_OnEveryRouteOfAnAgent_AndChangesNothing()
    {
        var victim = await app.PublishedAgentAsync();
        var versions = await Http.ReadJsonAsync(await victim.Seller.Client.GetAsync($"/api/provider-agents/{victim.AgentId}/versions/"));
        var versionId = versions[0].GetProperty("uuid").GetGuid();
        var (attacker, _) = await app.SellerAsync("Mallory");
        var routes = ApiRoute.All(app.Services).Where(r => r.Pattern.StartsWith("/api/provider-agents/{uuid", StringComparison.Ordinal)).ToList();
        Assert.True(routes.Count >= 20, string.Join(", ", routes));

        var leaks = new List<string>();
        foreach (var route in routes)
        {
            var url = route.Url(name => name == "version_uuid" ? versionId.ToString() : victim.AgentId.ToString());
            using var request = new HttpRequestMessage(new HttpMethod(route.Method), url);
            if (url.EndsWith("/import_flow", StringComparison.Ordinal) || url.EndsWith("/validate_flow", StringComparison.Ordinal))
            {
                request.Content = new ByteArrayContent(CatalogIntents.ExampleFlow("Basic Prompting.json")) { Headers = { ContentType = new("application/json") } };
            }
            else if (route.AcceptsJson)
            {
                request.Content = JsonContent.Create(new { name = "Hijacked", version = "1.0.0", slug = "hijacked", short_description = "x", pricing = new { model = "free" }, fields = Array.Empty<object>() });
            }
            using var response = await attacker.Client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.NotFound)
            {
                leaks.Add($"{route} → {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));

        var agent = await Http.ReadJsonAsync(await victim.Seller.Client.GetAsync($"/api/provider-agents/{victim.AgentId}/"));
        Assert.Equal(victim.Name, agent.GetProperty("name").GetString());
        Assert.Equal("active", agent.GetProperty("listing").GetProperty("state").GetString());
        Assert.Single((await Http.ReadJsonAsync(await victim.Seller.Client.GetAsync($"/api/provider-agents/{victim.AgentId}/versions/"))).EnumerateArray());
        Assert.Equal(0, (await Http.ReadJsonAsync(await attacker.Client.GetAsync("/api/provider-agents/"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task APreviewImage_MustBelongToThePublishersOrganization()
    {
        var (other, _) = await app.SellerAsync();
        var foreign = await Http.ReadJsonAsync(await other.Client.PostAsync("/api/catalog-images/", Images.Png()), HttpStatusCode.Created);
        var (seller, _) = await app.SellerAsync();
        var agent = await seller.CreateAgentAsync();
        await seller.ImportExampleAsync(agent);

        var problem = await Http.AssertProblemAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agent}/publish/",
            CatalogIntents.PublishBody("borrowed-image", new() { ["preview_image"] = foreign.GetProperty("uuid").GetGuid() })), HttpStatusCode.BadRequest, "validation_failed");
        Assert.True(problem.GetProperty("errors").TryGetProperty("preview_image", out _));
    }
}
