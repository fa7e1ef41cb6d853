using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Catalog.Featured;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Platform;

/// <summary>An app whose landing page fails when asked to (its featured row cannot be built), with the errors it logs kept.</summary>
public sealed class FailingPageApp : AgentMarketApp
{
    public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Errors { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddHttpContextAccessor();
            services.AddScoped(sp => sp.GetRequiredService<IHttpContextAccessor>().HttpContext?.Request.Query.ContainsKey("fail") == true
                ? throw new InvalidOperationException("The featured row broke.")
                : ActivatorUtilities.CreateInstance<FeaturedListings>(sp));
        });
        builder.ConfigureLogging(logging => logging.AddProvider(new ErrorCollector(Errors)));
    }

    sealed class ErrorCollector(ConcurrentQueue<(LogLevel, string, Exception?)> errors) : ILoggerProvider, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                errors.Enqueue((logLevel, formatter(state, exception), exception));
            }
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>A page that fails tells its visitor a reference, and the log has exactly one error entry under it.</summary>
public class ServerErrorLogTests(FailingPageApp app) : IClassFixture<FailingPageApp>
{
    [Fact]
    public async Task AFailedPage_ShowsAReference_ThatTheLogHasOnce_WithTheException()
    {
        var response = await app.CreateClient().GetAsync("/?fail=1");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        var start = html.IndexOf("Reference: <code>", StringComparison.Ordinal) + "Reference: <code>".Length;
        var reference = WebUtility.HtmlDecode(html[start..html.IndexOf("</code>", start, StringComparison.Ordinal)]);
        Assert.False(string.IsNullOrWhiteSpace(reference));
        var logged = Assert.Single(app.Errors, e => e.Message.Contains(reference, StringComparison.Ordinal));
        Assert.Equal("The featured row broke.", logged.Exception?.GetBaseException().Message);
        Assert.DoesNotContain(app.Errors, e => e.Exception?.GetBaseException().Message == "The featured row broke." && !e.Message.Contains(reference, StringComparison.Ordinal));
    }
}

/// <summary>
/// The operator's support address, where people write when something fails: in every page's footer and on the error page.
/// Its own app, since the failures it causes would be logged beside the other class's.
/// </summary>
public class SupportEmailTests(FailingPageApp app) : IClassFixture<FailingPageApp>
{
    [Fact]
    public async Task TheOperatorsSupportEmail_IsInTheFooterAndOnTheFailedPage_AndOnlyAnAddressIsAccepted()
    {
        var operatorClient = await app.OperatorAsync();
        var visitor = app.CreateClient();
        await Http.AssertProblemAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { support_email = "javascript:alert(1)" }),
            HttpStatusCode.BadRequest, "validation_failed");
        var refused = await operatorClient.SubmitAsync("/admin/settings", "settings", new()
        {
            ["site_name"] = "Market",
            ["tagline"] = "Agents",
            ["brand_color"] = "#7c3aed",
            ["support_email"] = "help at example",
        });
        Assert.Contains("Support email: Use an email address like support@example.com", await refused.HtmlAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain("data-support-email", await visitor.HtmlAsync("/"), StringComparison.Ordinal);
        Assert.Contains("tell the operator this reference", await (await visitor.GetAsync("/?fail=1")).Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var saved = await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { support_email = " help@market.example " }));
        Assert.Equal("help@market.example", saved.GetProperty("support_email").GetString());
        Assert.Contains("<a href=\"mailto:help@market.example\" data-support-email>help@market.example</a>", await visitor.HtmlAsync("/"), StringComparison.Ordinal);
        var failed = await visitor.GetAsync("/?fail=1");
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.Contains("write to <a href=\"mailto:help@market.example\" data-support-email>help@market.example</a> with this reference",
            await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var removed = await Http.ReadJsonAsync(await operatorClient.PatchAsJsonAsync("/api/admin/settings", new { support_email = "" }));
        Assert.Equal(JsonValueKind.Null, removed.GetProperty("support_email").ValueKind);
        Assert.DoesNotContain("data-support-email", await visitor.HtmlAsync("/"), StringComparison.Ordinal);
    }
}
