using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>
/// The app on a real Kestrel port on 127.0.0.1 plus Debian's headless Chromium driven by Playwright (the browser
/// download Playwright would normally do cannot happen here; PACKAGES.md).
/// </summary>
public class BrowserApp : AgentMarketApp
{
    IPlaywright? _playwright;

    public BrowserApp() => UseKestrel(0);

    public string BaseUrl { get; private set; } = "";
    public IBrowser Browser { get; private set; } = default!;

    public override async ValueTask InitializeAsync()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        // The intents' HTTP clients (sign-up, publishing…) go to the same Kestrel server the browser uses.
        ClientOptions.BaseAddress = new Uri(BaseUrl);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
            Headless = true,
            // The sandbox needs user namespaces the CI container lacks; the other flags stop Chromium calling home.
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        });
    }

    /// <summary>Signs the configured operator in on <paramref name="page"/>, through the sign-in form.</summary>
    public Task SignInAsOperatorAsync(IPage page) => SignInAsync(page, OperatorEmail, OperatorPassword);

    /// <summary>A new page of <paramref name="context"/> with <paramref name="user"/> signed in through the sign-in form.</summary>
    public async Task<IPage> SignedInPageAsync(IBrowserContext context, TestUser user)
    {
        var page = await context.NewPageAsync();
        await SignInAsync(page, user.Email, user.Password);
        return page;
    }

    async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync(BaseUrl + "/signin");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForPageAsync(url => !url.Contains("/signin", StringComparison.Ordinal));
    }

    public override async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
