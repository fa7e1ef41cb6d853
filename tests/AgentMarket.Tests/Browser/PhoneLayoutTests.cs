using System.Text.RegularExpressions;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>On a phone (390 px), pages fit the screen: wide tables scroll inside themselves, not the whole page.</summary>
public class PhoneLayoutTests(BuyerBrowserApp app) : IClassFixture<BuyerBrowserApp>
{
    /// <summary>The outermost elements reaching past the screen's right edge, for the failure message.</summary>
    const string WidestElement = """
        Array.from(document.querySelectorAll('*'))
            .filter(e => e.getBoundingClientRect().right > 391)
            .slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + getComputedStyle(e).overflowX + ' ' + getComputedStyle(e).display).join(', ')
        """;
    [Fact]
    public async Task PagesWithWideTables_FitAPhonesWidth()
    {
        var agent = await app.PromptAgentAsync();
        await using var context = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await app.SignUpAsync(page, "Phone Buyer");
        await page.GotoAsync($"{app.BaseUrl}/agents/{agent.Slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to My Agents" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/configure\\?saved=subscribed$"));
        var configure = new Uri(page.Url).AbsolutePath;
        var keys = configure.Replace("/configure", "/keys", StringComparison.Ordinal);
        await page.GotoAsync(app.BaseUrl + keys);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Phone key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        await Assertions.Expect(page.Locator("table")).ToBeVisibleAsync();

        await AssertFitAsync(page, keys, "/organization", "/credits", "/my-agents/usage", "/settings/webhooks");

        // The charts' axis labels are inside their pictures, the last day's included.
        await page.GotoAsync(app.BaseUrl + "/my-agents/usage");
        var outside = await page.EvaluateAsync<string[]>("""
            Array.from(document.querySelectorAll('svg.bar-chart-svg')).flatMap(svg => {
                const box = svg.getBoundingClientRect();
                return Array.from(svg.querySelectorAll('text.axis-label')).filter(t => {
                    const r = t.getBoundingClientRect();
                    return r.left < box.left - 0.5 || r.right > box.right + 0.5;
                }).map(t => t.textContent);
            })
            """);
        Assert.Empty(outside);

        // The operator's pages too, the audit log's long JSON included (the buyer's sign-up and key are in it).
        await using var operatorContext = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        var operatorPage = await operatorContext.NewPageAsync();
        await app.SignInAsOperatorAsync(operatorPage);
        await AssertFitAsync(operatorPage, "/admin/audit", "/admin/emails", "/admin/organizations", "/admin/payments");
        // An organization's page, its members' long addresses included; its section's tab is the current one.
        await operatorPage.GotoAsync(app.BaseUrl + "/admin/organizations");
        var organization = await operatorPage.Locator("main a[href^='/admin/organizations/']").First.GetAttributeAsync("href");
        await AssertFitAsync(operatorPage, organization!);
        await Assertions.Expect(operatorPage.Locator("nav.tabs a[aria-current='page']")).ToHaveTextAsync("Users and organizations");
    }

    [Fact]
    public async Task TheOperatorsQueueOfEdits_OnAPhone_ShowsTheChangesAndTheDecisionWithoutScrollingSideways()
    {
        // An edit waiting from before auto-approval was turned on (this app approves listings at once): a long summary and
        // a new image, as wide as edits get.
        var agent = await app.PublishedAgentAsync();
        var waitingListing = await app.PublishedAgentAsync();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Tenancy.CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
            db.ListingChanges.Add(new AgentMarket.Catalog.Moderation.ListingChange
            {
                ListingId = agent.ListingId,
                ShortDescription = string.Join(' ', Enumerable.Repeat("A much longer one-line description of what it does.", 5)),
                PreviewImageUrl = "/media/images/proposed.png",
                SubmittedUtc = DateTime.UtcNow,
            });
            // And a first publication waiting, submitted before auto-approval was turned on.
            (await db.Listings.SingleAsync(l => l.Id == waitingListing.ListingId)).State = AgentMarket.Catalog.ListingState.PendingReview;
            await db.SaveChangesAsync();
        }
        await using var context = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await app.SignInAsOperatorAsync(page);

        await AssertFitAsync(page, "/admin");
        var row = page.Locator($"tr[data-pending-change='{agent.ListingId}']");
        var listingRow = page.Locator("tr", new() { Has = page.Locator($"a[href='/admin/listings/{waitingListing.ListingId}']") });
        foreach (var part in new[]
        {
            row.Locator("[data-change-fields]"), row.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = false }), row.GetByRole(AriaRole.Button, new() { Name = "Reject", Exact = false }),
            listingRow.GetByRole(AriaRole.Button, new() { Name = "Approve", Exact = false }), listingRow.GetByRole(AriaRole.Button, new() { Name = "Reject", Exact = false }),
        })
        {
            var box = await part.BoundingBoxAsync();
            Assert.True(box is not null && box.X >= 0 && box.X + box.Width <= 390, $"past a 390 px screen: {box?.X} + {box?.Width}");
        }
    }

    [Fact]
    public async Task TheHeader_IsOneLineOnAPhone_WithItsLinksBehindMenu_AndOneRowOnADesktop()
    {
        await using var context = await app.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 } });
        var page = await context.NewPageAsync();
        await app.SignUpAsync(page, "Header Buyer");
        var header = page.Locator("header.site-header");
        var myAgents = header.GetByRole(AriaRole.Link, new() { Name = "My Agents" });

        Assert.True((await header.BoundingBoxAsync())!.Height <= 80, $"the phone's header is {(await header.BoundingBoxAsync())!.Height} px high");
        await Assertions.Expect(myAgents).ToBeHiddenAsync();
        await header.GetByText("Menu").ClickAsync();
        await Assertions.Expect(header.Locator("[data-credit-balance]")).ToBeVisibleAsync();
        await myAgents.ClickAsync();
        await page.WaitForURLAsync(new Regex("/my-agents$"));

        // A desktop shows the same links and actions in one row, no menu to open.
        await page.SetViewportSizeAsync(1280, 800);
        await Assertions.Expect(header.GetByText("Menu")).ToBeHiddenAsync();
        await Assertions.Expect(myAgents).ToBeVisibleAsync();
        await Assertions.Expect(header.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToBeVisibleAsync();
        Assert.True((await header.BoundingBoxAsync())!.Height <= 80, $"the desktop's header is {(await header.BoundingBoxAsync())!.Height} px high");
    }

    async Task AssertFitAsync(IPage page, params string[] paths)
    {
        foreach (var path in paths)
        {
            await page.GotoAsync(app.BaseUrl + path);
            var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            var widest = await page.EvaluateAsync<string>(WidestElement);
            Assert.True(width <= 390, $"{path} is {width} px wide on a 390 px screen; past the edge: {widest}");
        }
    }
}
