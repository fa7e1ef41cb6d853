using System.Net;
using AgentMarket.Keys;
using AgentMarket.Platform.Auth;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Keys;

/// <summary>Key lookups are cached briefly, but only for keys that exist: made-up ones would grow the cache without bound.</summary>
public class KeyLookupCacheTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Theory]
    [InlineData(ApiKeyAuthenticationHandler.SecretPrefix)]
    [InlineData(ApiKeyAuthenticationHandler.PublishablePrefix)]
    public async Task AMadeUpWellFormedKey_IsRefused_AndNotRemembered(string prefix)
    {
        var madeUp = SecretToken.Generate(prefix);
        using var client = app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false });
        client.DefaultRequestHeaders.Add("x-api-key", madeUp);

        await Http.AssertStatusAsync(await client.GetAsync("/api/me"), HttpStatusCode.Unauthorized);

        Assert.False(app.Services.GetRequiredService<ApiKeyDirectory>().IsCached(madeUp));
    }
}
