using System.Globalization;
using System.Net.Http.Json;
using AgentMarket.Bench.Doors;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace AgentMarket.Bench.Widget;

/// <summary>
/// Time from the widget's script tag to an interactive launcher, in Debian's headless Chromium: the marketplace on
/// Kestrel (127.0.0.1), a shop page on another origin that embeds the widget with one script tag, and a clock in the
/// page that starts just before the tag and stops when the launcher button is in the widget's shadow root and enabled.
/// Cold: a new browser context per load (nothing cached). Warm: the same context reloaded (the loader revalidated, the
/// fingerprinted widget from cache).
/// </summary>
static class WidgetLoadBench
{
    const string Clock = """
        <script>
          window.launcherReady = new Promise((resolve) => {
            const started = performance.now();
            const poll = () => {
              const host = [...document.body.children].find((e) => e.shadowRoot);
              const launcher = host && host.shadowRoot.querySelector('button.launcher');
              if (launcher && !launcher.disabled) resolve(performance.now() - started); else setTimeout(poll, 1);
            };
            poll();
          });
        </script>
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var loads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
        await using var shop = await ShopAsync();
        await using var database = await BenchDatabase.CreateAsync("widget-load", server: null);
        var settings = BenchHost.Settings(database);
        settings["Widget:SessionsPerMinutePerAddress"] = "1000000"; // every load opens a session from 127.0.0.1
        await using var factory = BenchHost.Start(settings);
        factory.UseKestrel(0);
        factory.StartServer();
        var marketplace = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()
            .Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        factory.ClientOptions.BaseAddress = new Uri(marketplace);
        var (config, _, _, buyer) = await DoorsBench.SetUpAsync(factory);
        var publishable = (await DoorsBench.JsonAsync(buyer.PostAsJsonAsync("/api/agent-api-keys/",
            new { config, name = "widget", kind = "publishable", allowed_origins = new[] { shop.Origin } }))).GetProperty("key").GetString()!;
        shop.Html = $"""
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head><body><h1>Shop</h1>
            {Clock}<script src="{marketplace}/widget.js" data-agent-key="{publishable}" async></script></body></html>
            """;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        var cold = new Measurements("Chromium: script tag → interactive launcher, cold (new context)");
        var warm = new Measurements("Chromium: script tag → interactive launcher, warm (reload)");
        await LoadAsync(browser, shop.Url, cold, warmUp: 5, loads, reuseContext: false);
        await LoadAsync(browser, shop.Url, warm, warmUp: 5, loads, reuseContext: true);
        Console.WriteLine(cold.Summary("ms"));
        Console.WriteLine(warm.Summary("ms"));
        return 0;
    }

    static async Task LoadAsync(IBrowser browser, string url, Measurements into, int warmUp, int loads, bool reuseContext)
    {
        IBrowserContext? shared = reuseContext ? await browser.NewContextAsync() : null;
        try
        {
            for (var i = -warmUp; i < loads; i++)
            {
                var context = shared ?? await browser.NewContextAsync();
                try
                {
                    var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
                    await page.GotoAsync(url);
                    var elapsed = await page.EvaluateAsync<double>("window.launcherReady");
                    if (i >= 0)
                    {
                        into.Add(elapsed);
                    }
                }
                finally
                {
                    if (shared is null)
                    {
                        await context.DisposeAsync();
                    }
                }
            }
        }
        finally
        {
            if (shared is not null)
            {
                await shared.DisposeAsync();
            }
        }
    }

    /// <summary>The shop: one page on its own 127.0.0.1 origin.</summary>
    sealed class Shop(WebApplication server) : IAsyncDisposable
    {
        public string Html { get; set; } = "";
        public string Origin { get; } = server.Urls.First().TrimEnd('/');
        public string Url => $"{Origin}/shop";

        public async ValueTask DisposeAsync() => await server.DisposeAsync();
    }

    static async Task<Shop> ShopAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var server = builder.Build();
        Shop? shop = null;
        server.MapGet("/shop", () => Results.Content(shop!.Html, "text/html; charset=utf-8"));
        await server.StartAsync();
        return shop = new Shop(server);
    }
}
