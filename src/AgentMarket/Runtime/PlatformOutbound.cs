using AgentMarket.Flows.Net;
using Microsoft.Extensions.Options;

namespace AgentMarket.Runtime;

/// <summary>
/// The process-wide outbound guard (SPEC §7): refuses private, loopback, link-local and metadata addresses — after DNS
/// and redirects — except what <c>Flows:OutboundAllowList</c> allows. Flows' URL and API nodes, endpoints named by
/// buyers or flows, and outbound webhooks all go through it.
/// </summary>
public sealed class PlatformOutbound : IDisposable
{
    public PlatformOutbound(IOptions<FlowsOptions> options)
    {
        Guard = new OutboundGuard(OutboundPolicy.FromAllowList(options.Value.OutboundAllowList));
        HttpClient = new HttpClient(Guard.Handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public OutboundGuard Guard { get; }

    /// <summary>An HttpClient whose connections pass the guard; per-request timeouts are the caller's.</summary>
    public HttpClient HttpClient { get; }

    public void Dispose()
    {
        HttpClient.Dispose();
        Guard.Dispose();
    }
}
