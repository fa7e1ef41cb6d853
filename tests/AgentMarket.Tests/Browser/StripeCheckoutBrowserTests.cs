using AgentMarket.Tests.Infrastructure;
using AgentMarket.Tests.Payments;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>The browser app with Stripe configured: a fake Stripe on loopback whose Checkout is on a "custom domain", its own origin.</summary>
public sealed class StripeBrowserApp : BrowserApp
{
    public FakeStripe Stripe { get; } = new();

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Stripe:SecretKey", StripeApp.SecretKey),
        new("Stripe:WebhookSecret", StripeApp.WebhookSecret),
        new("Stripe:ApiBase", Stripe.BaseUrl),
        new("Stripe:CheckoutCustomDomain", Stripe.BaseUrl),
    ];

    public override async ValueTask InitializeAsync()
    {
        await Stripe.StartAsync(); // before the app reads its settings
        Stripe.CheckoutBase = Stripe.BaseUrl;
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Stripe.DisposeAsync();
    }
}

/// <summary>
/// Checkout is reached by a form post to the marketplace that answers with a redirect to Stripe; Chromium holds that
/// redirect to the page's <c>form-action</c>, so a Checkout custom domain works only once configured (ADR-171).
/// </summary>
public class StripeCheckoutBrowserTests(StripeBrowserApp app) : IClassFixture<StripeBrowserApp>
{
    [Fact]
    public async Task ChoosingAPlan_RedirectsToCheckoutOnTheConfiguredCustomDomain_WithoutAPolicyViolation()
    {
        await using var context = await app.Browser.NewContextAsync();
        await context.AddInitScriptAsync("""
            window.addEventListener('securitypolicyviolation', e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI), true);
            """);
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, message) => console.Add($"{message.Type}: {message.Text}");
        await page.GotoAsync(app.BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync("Stripe Buyer");
        await page.GetByLabel("Email").FillAsync($"stripe-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForPageAsync(app.BaseUrl + "/my-agents");

        await page.GotoAsync(app.BaseUrl + "/pricing");
        await page.GetByRole(AriaRole.Button, new() { Name = "Monthly", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Choose Plus, monthly" }).ClickAsync();

        await page.WaitForPageAsync(url => url.StartsWith(app.Stripe.BaseUrl + "c/pay/cs_", StringComparison.Ordinal));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToContainTextAsync("Pay session cs_");
        Assert.Single(app.Stripe.CheckoutSessions());
        Assert.DoesNotContain(console, line => line.Contains("CSP violation:", StringComparison.Ordinal) || line.Contains("Content Security Policy", StringComparison.Ordinal));
    }
}
