using System.Collections.Concurrent;
using System.Net;
using AgentMarket.Catalog.Featured;
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
