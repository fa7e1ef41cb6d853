using AgentMarket.Flows.Components.Tools;

namespace AgentMarket.Flows.Tests.Components;

/// <summary>The URL component's <c>prevent_outside</c>: a crawl stays on its start URL's origin and under its path (ADR-160).</summary>
public class UrlCrawlScopeTests
{
    [Theory]
    [InlineData("https://a.com", "https://a.com/")]
    [InlineData("https://a.com", "https://a.com/docs/page?x=1")]
    [InlineData("https://A.com/", "https://a.COM/about")]
    [InlineData("https://a.com:443/docs", "https://a.com/docs")]
    [InlineData("https://a.com/docs", "https://a.com/docs/intro")]
    [InlineData("https://a.com/docs/", "https://a.com/docs/intro")]
    public void ALinkOnTheSameOriginUnderTheStartPath_IsInside(string start, string link) =>
        Assert.True(UrlComponent.Within(new Uri(start), new Uri(link)));

    [Theory]
    [InlineData("https://a.com", "https://a.com.evil.org/")]
    [InlineData("https://a.com", "https://a.com@evil.org/")]
    [InlineData("https://a.com", "https://a.com:8443/")]
    [InlineData("https://a.com", "http://a.com/")]
    [InlineData("https://a.com", "https://sub.a.com/")]
    [InlineData("https://a.com/docs", "https://a.com/docs-private/")]
    [InlineData("https://a.com/docs", "https://a.com/")]
    public void ALinkOnAnotherOriginOrBesideTheStartPath_IsOutside(string start, string link) =>
        Assert.False(UrlComponent.Within(new Uri(start), new Uri(link)));
}
