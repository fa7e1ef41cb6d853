using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Platform;

/// <summary>The app behind a reverse proxy at <see cref="Proxy"/>, which it is configured to trust.</summary>
public sealed class ProxiedApp : AgentMarketApp
{
    public const string Proxy = "10.0.0.5";

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [new("Network:TrustedProxies:0", Proxy)];
}

/// <summary>
/// Per-address rules (lockouts, rate limits, the sessions list) see the real client behind a configured proxy, and only
/// behind it: anyone else's X-Forwarded-For is ignored, so a client cannot pose as another address.
/// </summary>
public class TrustedProxiesTests(ProxiedApp app) : IClassFixture<ProxiedApp>
{
    [Fact]
    public async Task TheConfiguredProxy_IsBelievedAboutTheClient_AndNoOneElseIs()
    {
        var user = await app.SignUpAsync();
        using var viaProxy = ClientFrom(ProxiedApp.Proxy, forwardedFor: "203.0.113.50");
        using var direct = ClientFrom("198.51.100.9", forwardedFor: "203.0.113.51");
        foreach (var client in new[] { viaProxy, direct })
        {
            await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        }

        var sessions = (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/auth/sessions"))).EnumerateArray().Select(s => s.GetProperty("ip_address").GetString()).ToList();
        Assert.Contains("203.0.113.50", sessions);
        Assert.Contains("198.51.100.9", sessions);
        Assert.DoesNotContain("203.0.113.51", sessions);
        Assert.DoesNotContain(ProxiedApp.Proxy, sessions);
    }

    HttpClient ClientFrom(string address, string forwardedFor)
    {
        var client = new HttpClient(app.Server.CreateHandler(context => context.Connection.RemoteIpAddress = IPAddress.Parse(address))) { BaseAddress = app.Server.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        return client;
    }
}
