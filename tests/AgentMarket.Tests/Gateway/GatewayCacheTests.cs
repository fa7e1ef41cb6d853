using AgentMarket.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Gateway;

/// <summary>The gateway's one-second cache does not keep what nobody asks for again (ids of gone or made-up subscriptions).</summary>
public class GatewayCacheTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ExpiredEntries_AreSwept_SoIdsNobodyRunsAgainDoNotAccumulate()
    {
        var clock = new TestClock();
        var cache = new GatewayCache(app.Services.GetRequiredService<IServiceScopeFactory>(), clock);
        const int madeUpIds = 50;
        for (var i = 0; i < madeUpIds; i++)
        {
            Assert.Null(await cache.SubscriptionAsync(Guid.NewGuid(), CancellationToken.None));
        }
        Assert.Equal(madeUpIds, cache.Count);

        clock.Advance(TimeSpan.FromSeconds(2));
        var asked = Guid.NewGuid();
        Assert.Null(await cache.SubscriptionAsync(asked, CancellationToken.None));

        Assert.Equal(1, cache.Count);
    }
}
