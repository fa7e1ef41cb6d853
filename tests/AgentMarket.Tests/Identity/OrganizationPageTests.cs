using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Identity;

/// <summary>The organization settings page, server-rendered: members, invitations, projects and tokens on one page.</summary>
public class OrganizationPageTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task OrganizationPage_ShowsMembersInvitationsProjectsAndTokens()
    {
        var owner = await app.SignUpAsync("Page Owner");
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/projects/", new { name = "Side project" }), HttpStatusCode.Created);
        await Http.AssertStatusAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = "invited@tests.example", role = "manager" }), HttpStatusCode.Created);
        await owner.CreateTokenAsync("deploy script");

        for (var attempt = 0; attempt < 5; attempt++)
        {
            var page = await owner.Client.GetAsync("/organization");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            var html = System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
            foreach (var expected in new[] { "Page Owner's Organization", owner.Email, "invited@tests.example", "Side project", "deploy script" })
            {
                Assert.Contains(expected, html, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task CreatingATokenOnThePage_ShowsTheSecretOnce()
    {
        var owner = await app.SignUpAsync();
        var form = await owner.Client.GetAsync("/organization");
        var antiforgery = Forms.HiddenValue(await form.Content.ReadAsStringAsync(), "__RequestVerificationToken");
        var created = await owner.Client.PostAsync("/organization", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "create-token",
            ["__RequestVerificationToken"] = antiforgery,
            ["Input.Name"] = "from the page",
        }));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var html = await created.Content.ReadAsStringAsync();
        var secret = System.Text.RegularExpressions.Regex.Match(html, "am_pat_[0-9A-Za-z]{38}").Value;
        Assert.NotEmpty(secret);
        await Http.AssertStatusAsync(await app.BearerClient(secret).GetAsync("/api/me"), HttpStatusCode.OK);
        Assert.DoesNotContain(secret, await (await owner.Client.GetAsync("/organization")).Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
