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
    readonly IDisposable? _onChange;

    public PlatformOutbound(IOptionsMonitor<FlowsOptions> options)
    {
        Guard = new OutboundGuard(OutboundPolicy.FromAllowList(options.CurrentValue.OutboundAllowList));
        // Model endpoints a buyer or a flow names are read by the OpenAI SDK, not SendAsync: the size cap goes in the handler.
        HttpClient = new HttpClient(new ResponseSizeLimit(Guard.Policy.MaxResponseBytes) { InnerHandler = Guard.Handler }, disposeHandler: false)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        // An operator's change of the allow-list (Admin settings) applies to the next connection, without a restart.
        _onChange = options.OnChange(changed => Guard.Policy = Guard.Policy with
        {
            AllowedHosts = OutboundPolicy.FromAllowList(changed.OutboundAllowList).AllowedHosts,
            AllowedNetworks = OutboundPolicy.FromAllowList(changed.OutboundAllowList).AllowedNetworks,
        });
    }

    public OutboundGuard Guard { get; }

    /// <summary>
    /// An HttpClient whose connections pass the guard and whose responses are bounded (<see cref="ResponseSizeLimit"/>):
    /// for model endpoints named by buyers or flows. Per-request timeouts are the caller's.
    /// </summary>
    public HttpClient HttpClient { get; }

    public void Dispose()
    {
        _onChange?.Dispose();
        HttpClient.Dispose();
        Guard.Dispose();
    }
}
