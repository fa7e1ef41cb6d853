using System.Net;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Admin;

/// <summary>The console's pages: operators only, and their forms do what the API does (audited).</summary>
public class ConsolePageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ConsolePages_AreForOperatorsOnly()
    {
        var user = await app.SignUpAsync();
        foreach (var page in new[] { "/admin", "/admin/organizations", $"/admin/organizations/{user.OrganizationId}", "/admin/settings", "/admin/audit", "/admin/catalog", "/admin/platform-metrics", "/admin/payments" })
        {
            await Http.AssertStatusAsync(await user.Client.GetAsync(page), HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Operator_FindsAnOrganization_SuspendsAndAdjustsItThroughTheForms_AndChangesBranding()
    {
        var operatorClient = await app.OperatorAsync();
        var user = await app.SignUpAsync($"Pagetest {Guid.NewGuid():N}"[..17]);
        var list = await operatorClient.HtmlAsync($"/admin/organizations?q={Uri.EscapeDataString(user.Name.ToLowerInvariant())}");
        Assert.Contains($"/admin/organizations/{user.OrganizationId}", list, StringComparison.Ordinal);

        var page = $"/admin/organizations/{user.OrganizationId}";
        var details = await operatorClient.HtmlAsync(page);
        Assert.Contains("<dt>Plan</dt><dd>Free</dd>", details, StringComparison.Ordinal); // the plan's name, not its code
        Assert.Contains($"<{user.Email}> — Owner", System.Net.WebUtility.HtmlDecode(details), StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(page, "suspend", new() { ["reason"] = "Fraud review" }), page);
        Assert.Contains("Fraud review", await operatorClient.HtmlAsync(page), StringComparison.Ordinal);
        Assert.Contains("Fraud review", await user.Client.HtmlAsync("/my-agents"), StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(page, "reactivate"), page);

        var before = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64();
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(page, "adjust", new() { ["credits"] = "15", ["reason"] = "Page goodwill", ["key"] = Guid.NewGuid().ToString() }), page);
        Assert.Equal(before + 15, (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64());
        Assert.Contains("Page goodwill", await operatorClient.HtmlAsync($"/admin/audit?organization={user.OrganizationId}"), StringComparison.Ordinal);

        var settings = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        var tagline = $"Tagline {Guid.NewGuid():N}"[..20];
        PageForms.AssertRedirect(await operatorClient.SubmitAsync("/admin/settings", "settings", new()
        {
            ["site_name"] = settings.GetProperty("site_name").GetString()!,
            ["tagline"] = tagline,
            ["brand_color"] = settings.GetProperty("brand_color").GetString()!,
            ["footer_text"] = settings.GetProperty("footer_text").GetString()!,
            ["auto_approve_providers"] = "true",
            ["auto_approve_listings"] = "true",
        }), "/admin/settings?done=saved");
        Assert.Contains("Settings saved.", await operatorClient.HtmlAsync("/admin/settings?done=saved"), StringComparison.Ordinal);
        Assert.Contains(tagline, await app.CreateClient().HtmlAsync("/"), StringComparison.Ordinal);
        Assert.Contains(tagline, await operatorClient.HtmlAsync("/admin/audit?action=settings"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARefusedSettingsForm_KeepsWhatTheOperatorTyped_NamesTheField_AndStoresNothing()
    {
        var operatorClient = await app.OperatorAsync();
        var before = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        var tagline = $"Typed {Guid.NewGuid():N}"[..18];

        var page = await operatorClient.SubmitAsync("/admin/settings", "settings", new()
        {
            ["site_name"] = before.GetProperty("site_name").GetString()!,
            ["tagline"] = tagline,
            ["brand_color"] = before.GetProperty("brand_color").GetString()!,
            ["logo_url"] = "javascript:alert(1)",
            ["outbound_allow_list"] = "models.internal",
        });

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
        Assert.Contains("The settings were not saved. Logo URL: Use an https:// URL or a path on this site.", html, StringComparison.Ordinal);
        Assert.Contains($"value=\"{tagline}\"", html, StringComparison.Ordinal);
        Assert.Contains("value=\"javascript:alert(1)\" maxlength=\"1000\" aria-describedby=\"logo_url_help\" aria-invalid=\"true\"", html, StringComparison.Ordinal);
        Assert.Contains(">models.internal</textarea>", html, StringComparison.Ordinal);
        var after = await Http.ReadJsonAsync(await operatorClient.GetAsync("/api/admin/settings"));
        Assert.Equal(before.GetProperty("tagline").GetString(), after.GetProperty("tagline").GetString());
        Assert.Equal(before.GetProperty("outbound_allow_list").GetRawText(), after.GetProperty("outbound_allow_list").GetRawText());
    }
}
