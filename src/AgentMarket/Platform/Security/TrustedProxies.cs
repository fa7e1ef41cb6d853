using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace AgentMarket.Platform.Security;

/// <summary>
/// The reverse proxies in front of the app (<c>Network:TrustedProxies</c>: addresses such as <c>10.0.0.5</c> or networks
/// such as <c>10.0.0.0/8</c>), whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed. Everything that
/// counts per client address (sign-in lockouts, rate limits, the widget's limits, the sessions list) then sees the real
/// client instead of the proxy. With none configured no forwarded header is believed, so a client cannot claim another
/// address.
/// </summary>
static class TrustedProxies
{
    public const string Section = "Network:TrustedProxies";

    /// <summary>Believes forwarded headers from the configured proxies only; first, so everything after sees the client.</summary>
    public static void UseTrustedProxies(this WebApplication app)
    {
        var proxies = Parse(app.Configuration.GetSection(Section).Get<string[]>() ?? []);
        if (proxies.Count == 0)
        {
            return;
        }
        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto };
        options.KnownProxies.Clear(); // loopback by default: only the configured proxies are believed
        options.KnownIPNetworks.Clear();
        proxies.ForEach(options.KnownIPNetworks.Add);
        app.UseForwardedHeaders(options);
    }

    static List<System.Net.IPNetwork> Parse(string[] entries) => [.. entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(entry =>
        System.Net.IPNetwork.TryParse(entry.Trim(), out var network) ? network
        : IPAddress.TryParse(entry.Trim(), out var address) ? new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
        : throw new InvalidOperationException($"{Section} holds '{entry}', which is neither an IP address (10.0.0.5) nor a network (10.0.0.0/8)."))];
}
