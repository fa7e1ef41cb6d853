using System.Net;
using System.Net.Http.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Providers;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Admin;

/// <summary>
/// The console's listings pages: every listing by state and search, and one listing's details with the decisions its
/// state allows, each through the page's one form, post/redirect/get, in the page's own words only.
/// </summary>
public class ListingConsolePageTests(ManualListingApprovalApp app) : IClassFixture<ManualListingApprovalApp>
{
    [Fact]
    public async Task ListPage_FiltersByStateAndSearch_AndLinksEachListingToItsDetails()
    {
        var pending = await app.PublishedAgentAsync();
        var live = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{live.ListingId}/approve/", null), HttpStatusCode.NoContent);

        var waiting = await operatorClient.HtmlAsync($"/admin/listings?state=pending_review&q={pending.ProviderHandle}");
        Assert.Contains($"href=\"/admin/listings/{pending.ListingId}\"", waiting, StringComparison.Ordinal);
        Assert.Contains("5 credits/run", waiting, StringComparison.Ordinal);
        Assert.DoesNotContain(live.Name, await operatorClient.HtmlAsync($"/admin/listings?state=pending_review&q={live.ProviderHandle}"), StringComparison.Ordinal);
        Assert.Contains(live.Name, await operatorClient.HtmlAsync($"/admin/listings?state=active&q={live.Slug}"), StringComparison.Ordinal);
        var all = await operatorClient.HtmlAsync($"/admin/listings?q={Uri.EscapeDataString(pending.Name)}");
        Assert.Contains(pending.Name, all, StringComparison.Ordinal);
        Assert.DoesNotContain(live.Name, all, StringComparison.Ordinal);
        Assert.Contains("No listings match.", await operatorClient.HtmlAsync("/admin/listings?state=<b>bogus</b>&q=nothing-matches-this&offset=abc"), StringComparison.Ordinal);

        // The review queue on the console's home links to the same details.
        Assert.Contains($"href=\"/admin/listings/{pending.ListingId}\"", await operatorClient.HtmlAsync("/admin"), StringComparison.Ordinal);

        // The details name the category as the catalog does, not by its slug.
        var categoryName = await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().Categories.Where(c => c.Slug == "assistants").Select(c => c.Name).SingleAsync());
        Assert.Contains($"<dt>Category</dt><dd>{categoryName}</dd>", await operatorClient.HtmlAsync($"/admin/listings/{pending.ListingId}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pages_AreNotFound_ForNonOperators_AndForUnknownListings()
    {
        var pending = await app.PublishedAgentAsync();
        foreach (var client in new[] { pending.Seller.Client, (await app.SignUpAsync()).Client })
        {
            Assert.DoesNotContain(pending.Name, await client.HtmlAsync("/admin/listings?state=all", HttpStatusCode.NotFound), StringComparison.Ordinal);
            Assert.DoesNotContain(pending.Name, await client.HtmlAsync($"/admin/listings/{pending.ListingId}", HttpStatusCode.NotFound), StringComparison.Ordinal);
        }
        await (await app.OperatorAsync()).HtmlAsync($"/admin/listings/{Guid.NewGuid()}", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DetailPage_ShowsPriceDescriptionAndVersion_AndApprovesOrRejectsWithAReason()
    {
        var rejected = await app.PublishedAgentAsync(overrides: new() { ["pricing"] = new { model = "fixed_credits", credits_per_run = 17 } });
        var approved = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var url = $"/admin/listings/{rejected.ListingId}";

        var page = await operatorClient.HtmlAsync(url);
        Assert.Equal("17 credits/run", PageForms.Marked(page, "data-price"));
        Assert.Contains("<strong>politely</strong>", page, StringComparison.Ordinal);
        Assert.Equal("1.0.0", PageForms.Marked(page, "data-version"));
        Assert.Contains("Runs on this marketplace.", page, StringComparison.Ordinal);
        Assert.Contains("Answers questions politely.", page, StringComparison.Ordinal);

        PageForms.AssertRedirect(await operatorClient.SubmitAsync(url, "listing-action", new() { ["reject"] = rejected.ListingId.ToString(), ["reason"] = " " }), $"{url}?error=reason_required");
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(url, "listing-action", new() { ["reject"] = rejected.ListingId.ToString(), ["reason"] = "Say what it costs." }), $"{url}?done=rejected");
        Assert.Contains("The listing is back in draft", await operatorClient.HtmlAsync($"{url}?done=rejected"), StringComparison.Ordinal);
        var own = await Http.ReadJsonAsync(await rejected.Seller.Client.GetAsync($"/api/provider-agents/{rejected.AgentId}/listing/"));
        Assert.Equal(("draft", "Say what it costs."), (own.GetProperty("state").GetString(), own.GetProperty("moderation_note").GetString()));

        var approvedUrl = $"/admin/listings/{approved.ListingId}";
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(approvedUrl, "listing-action", new() { ["approve"] = approved.ListingId.ToString() }), $"{approvedUrl}?done=approved");
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{approved.Slug}/"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task DetailPage_TakesDownAndRestores_AndADecisionOnAPageReadBeforeAnotherOperatorDecided_SaysSo()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        await Http.AssertStatusAsync(await operatorClient.PostAsync($"/api/admin/listings/{agent.ListingId}/approve/", null), HttpStatusCode.NoContent);
        var url = $"/admin/listings/{agent.ListingId}";

        var page = await operatorClient.HtmlAsync(url);
        Assert.Contains("name=\"take-down\"", page, StringComparison.Ordinal);
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(url, page, "listing-action", new() { ["take-down"] = agent.ListingId.ToString() }), $"{url}?error=reason_required");
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(url, page, "listing-action", new() { ["take-down"] = agent.ListingId.ToString(), ["reason"] = "Phishing." }), $"{url}?done=taken_down");
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.NotFound);
        var takenDown = await operatorClient.HtmlAsync($"{url}?done=taken_down");
        Assert.Contains("The listing is taken down", takenDown, StringComparison.Ordinal);
        Assert.Equal("Phishing.", PageForms.Marked(takenDown, "data-moderation-note"));

        // The page read before the take-down still offers it: posting it again is refused, and changes nothing.
        PageForms.AssertRedirect(await operatorClient.SubmitFromPageAsync(url, page, "listing-action", new() { ["take-down"] = agent.ListingId.ToString(), ["reason"] = "Again." }), $"{url}?error=state_changed");
        Assert.Equal("Phishing.", PageForms.Marked(await operatorClient.HtmlAsync(url), "data-moderation-note"));

        PageForms.AssertRedirect(await operatorClient.SubmitAsync(url, "listing-action", new() { ["restore"] = agent.ListingId.ToString() }), $"{url}?done=restored");
        await Http.AssertStatusAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/{agent.Slug}/"), HttpStatusCode.OK);
        PageForms.AssertRedirect(await operatorClient.SubmitAsync(url, "listing-action", new() { ["restore"] = Guid.NewGuid().ToString() }), $"{url}?error=no_decision");
        Assert.Contains("Phishing.", await operatorClient.HtmlAsync("/admin/audit?action=listing.taken_down"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DetailPage_ACraftedMessageCode_ShowsNoneOfItsWords()
    {
        var agent = await app.PublishedAgentAsync();
        var operatorClient = await app.OperatorAsync();
        var crafted = Uri.EscapeDataString("Your session expired: sign in again at evil.example");
        var page = await operatorClient.HtmlAsync($"/admin/listings/{agent.ListingId}?error={crafted}&done={crafted}");
        Assert.DoesNotContain("Your session expired", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-ok", page, StringComparison.Ordinal);
        Assert.DoesNotContain("alert-error", page, StringComparison.Ordinal);
    }
}
