using System.Globalization;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>A buyer in Chromium: upgrade on the pricing page, buy credits through the sandbox checkout, read the receipt.</summary>
public partial class CreditsJourneyTests(BrowserApp app) : IClassFixture<BrowserApp>
{
    [Fact]
    public async Task Buyer_UpgradesToPlus_BuysStarter_AndSeesExactly1500MoreCredits_AndTheReceipt()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await SignUpAsync(page, "Ada Lovelace");
        Assert.Equal(350, await HeaderBalanceAsync(page));

        await UpgradeToPlusAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Thank you! Payment complete");
        await page.GotoAsync(app.BaseUrl + "/credits");
        var before = await CreditsPageBalanceAsync(page);
        Assert.Equal(350 + 2_000, before);
        Assert.Equal(before, await HeaderBalanceAsync(page));

        await page.GetByRole(AriaRole.Button, new() { Name = "Buy Starter: 1,500 credits for $15.00" }).ClickAsync();
        await page.WaitForPageAsync(CheckoutUrl());
        await Assertions.Expect(page.GetByText("TEST MODE")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-checkout-item]")).ToContainTextAsync("Starter package: 1,500 credits");
        await Assertions.Expect(page.Locator("[data-checkout-total]")).ToHaveTextAsync("$15.00");
        await page.GetByLabel("Card number").FillAsync("4242 4242 4242 4242");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pay $15.00" }).ClickAsync();

        await page.WaitForPageAsync(new Regex("/credits/success\\?payment="));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Thank you! Payment complete");
        Assert.Equal(before + 1_500, await HeaderBalanceAsync(page));
        await page.GotoAsync(app.BaseUrl + "/credits");
        Assert.Equal(before + 1_500, await CreditsPageBalanceAsync(page));
        Assert.Equal(before + 1_500, await HeaderBalanceAsync(page));

        // The newest receipt is the package's.
        await page.GotoAsync(app.BaseUrl + "/receipts");
        await page.GetByRole(AriaRole.Row).Nth(1).GetByRole(AriaRole.Link).ClickAsync();
        await Assertions.Expect(page.Locator("[data-receipt-total]")).ToHaveTextAsync("$15.00");
        await Assertions.Expect(page.Locator("[data-receipt-number]")).ToHaveTextAsync(new Regex("^AM-[0-9]{6}$"));
        await Assertions.Expect(page.GetByText("TEST MODE — no money was charged")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Ada Lovelace's Organization")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-receipt-status]")).ToHaveTextAsync("Paid");
    }

    [Fact]
    public async Task DeclinedCard_ShowsTheError_AndChangesNothing()
    {
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await SignUpAsync(page, "Declan Declined");
        await UpgradeToPlusAsync(page);
        await page.GotoAsync(app.BaseUrl + "/credits");
        var before = await CreditsPageBalanceAsync(page);

        await page.GetByRole(AriaRole.Button, new() { Name = "Buy Standard: 5,000 credits for $50.00" }).ClickAsync();
        await page.WaitForPageAsync(CheckoutUrl());
        var checkoutUrl = page.Url;
        await page.GetByLabel("Card number").FillAsync("4000 0000 0000 0002");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pay $50.00" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your card was declined. Try another card.");
        Assert.StartsWith(checkoutUrl, page.Url, StringComparison.Ordinal);
        Assert.Equal(before, await HeaderBalanceAsync(page));
        await page.GotoAsync(app.BaseUrl + "/credits");
        Assert.Equal(before, await CreditsPageBalanceAsync(page));
        await page.GotoAsync(app.BaseUrl + "/receipts");
        await Assertions.Expect(page.GetByRole(AriaRole.Row)).ToHaveCountAsync(2); // the header row and the Plus receipt
    }

    [Fact]
    public async Task PricingPage_ShowsBothPricesWithoutJavaScript_AndTheToggleSwitchesThem()
    {
        await using (var noScript = await app.Browser.NewContextAsync(new() { JavaScriptEnabled = false }))
        {
            var page = await noScript.NewPageAsync();
            await page.GotoAsync(app.BaseUrl + "/pricing");
            await Assertions.Expect(page.Locator("[data-price=plus-monthly]")).ToHaveTextAsync("$19.90");
            await Assertions.Expect(page.Locator("[data-price=plus-yearly]")).ToHaveTextAsync("$15.90");
            await Assertions.Expect(page.Locator("[data-price=plus-yearly]")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("[data-price=plus-monthly]")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Group, new() { Name = "Billing period" })).ToBeHiddenAsync();
        }

        await using var context = await app.Browser.NewContextAsync();
        var withScript = await context.NewPageAsync();
        await withScript.GotoAsync(app.BaseUrl + "/pricing");
        var yearly = withScript.GetByRole(AriaRole.Button, new() { Name = "Yearly SAVE ~20%" });
        await Assertions.Expect(yearly).ToHaveAttributeAsync("aria-pressed", "true");
        await Assertions.Expect(withScript.Locator("[data-price=pro-yearly]")).ToBeVisibleAsync();
        await Assertions.Expect(withScript.Locator("[data-price=pro-monthly]")).ToBeHiddenAsync();
        await withScript.GetByRole(AriaRole.Button, new() { Name = "Monthly", Exact = true }).ClickAsync();
        await Assertions.Expect(withScript.Locator("[data-price=pro-monthly]")).ToHaveTextAsync("$99.90");
        await Assertions.Expect(withScript.Locator("[data-price=pro-yearly]")).ToBeHiddenAsync();
    }

    async Task SignUpAsync(IPage page, string name)
    {
        await page.GotoAsync(app.BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync($"buyer-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");
    }

    /// <summary>Pricing page → Monthly → Choose Plus → the sandbox checkout, paid with the succeeding test card.</summary>
    async Task UpgradeToPlusAsync(IPage page)
    {
        await page.GotoAsync(app.BaseUrl + "/pricing");
        await page.GetByRole(AriaRole.Button, new() { Name = "Monthly", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Choose Plus, monthly" }).ClickAsync();
        await page.WaitForPageAsync(CheckoutUrl());
        await Assertions.Expect(page.Locator("[data-checkout-total]")).ToHaveTextAsync("$19.90");
        await page.GetByLabel("Card number").FillAsync("4242424242424242");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pay $19.90" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/credits/success\\?payment="));
    }

    static async Task<long> HeaderBalanceAsync(IPage page) =>
        Credits(await page.Locator("header [data-credit-balance] strong").TextContentAsync());

    static async Task<long> CreditsPageBalanceAsync(IPage page) =>
        Credits(await page.Locator("[data-stat=balance]").TextContentAsync());

    static long Credits(string? text) => long.Parse(text!.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

    [GeneratedRegex("/checkout/[0-9a-f-]{36}$")]
    private static partial Regex CheckoutUrl();
}
