using System.Collections.Concurrent;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Widget;

/// <summary>
/// The app on Kestrel with Chromium (<see cref="BrowserApp"/>) and the fake model, plus two tiny static sites on other
/// 127.0.0.1 ports: other origins whose pages embed the widget, one of them allowed by the test's key, one not.
/// </summary>
public sealed class WidgetBrowserApp : BrowserApp
{
    public FakeOpenAiServer Model { get; private set; } = default!;
    public StaticSite Shop { get; private set; } = default!;
    public StaticSite Elsewhere { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Llm:BaseUrl", Model.BaseUrl.ToString()),
        new("Llm:ApiKey", "operator-test-key"),
        new("Llm:Model", "operator-default-model"),
    ];

    public override async ValueTask InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        Model.Otherwise(FakeReply.Say("I am the default answer."));
        Shop = await StaticSite.StartAsync();
        Elsewhere = await StaticSite.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Shop.DisposeAsync();
        await Elsewhere.DisposeAsync();
        await Model.DisposeAsync();
    }
}

/// <summary>A web server on 127.0.0.1 that serves the HTML pages a test puts in it, at <c>/{name}</c>.</summary>
public sealed class StaticSite : IAsyncDisposable
{
    readonly WebApplication _server;
    readonly ConcurrentDictionary<string, string> _pages = new(StringComparer.Ordinal);

    StaticSite(WebApplication server, string origin)
    {
        _server = server;
        Origin = origin;
    }

    /// <summary>For example <c>http://127.0.0.1:41234</c>.</summary>
    public string Origin { get; }

    public static async Task<StaticSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var server = builder.Build();
        StaticSite? site = null;
        server.MapGet("/{name}", (string name) => site!._pages.TryGetValue(name, out var html) ? Results.Content(html, "text/html; charset=utf-8") : Results.NotFound());
        await server.StartAsync();
        site = new StaticSite(server, server.Urls.First().TrimEnd('/'));
        return site;
    }

    /// <summary>Puts a page at <c>/{name}</c> and returns its URL.</summary>
    public string Page(string name, string html)
    {
        _pages[name] = html;
        return $"{Origin}/{name}";
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();
}
