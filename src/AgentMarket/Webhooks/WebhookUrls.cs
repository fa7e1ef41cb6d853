using System.Net;
using System.Net.Sockets;
using AgentMarket.Flows.Net;
using AgentMarket.Runtime;

namespace AgentMarket.Webhooks;

/// <summary>
/// Checks an endpoint URL when it is saved, with the outbound guard's own policy, so a URL every delivery would refuse
/// is refused at once with a clear reason. The guard checks again at each delivery, on the address it connects to
/// (DNS can change), so this is a courtesy, not the defence.
/// </summary>
public sealed class WebhookUrls(PlatformOutbound outbound)
{
    public const string NotAllowedCode = "webhook_url_not_allowed";

    // A name that does not resolve quickly is accepted: it may not exist yet, and each delivery resolves it again.
    static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(2);

    public sealed record Problem(string Code, string Message);

    /// <summary>The URL as it will be stored, or why it cannot be.</summary>
    public async Task<(string? Url, Problem? Problem)> CheckAsync(string url, CancellationToken ct)
    {
        url = url.Trim();
        if (url.Length > WebhookEndpoint.MaxUrlLength || !Uri.TryCreate(url, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return (null, Invalid($"Use an absolute https:// URL of at most {WebhookEndpoint.MaxUrlLength} characters."));
        }
        if (uri.UserInfo.Length > 0)
        {
            // Credentials in a URL end up in logs and screenshots; receivers verify the signature instead.
            return (null, Invalid("Remove the user name and password from the URL; verify the webhook-signature header instead."));
        }
        var host = uri.IdnHost.Trim('[', ']');
        var policy = outbound.Guard.Policy;
        var addresses = policy.IsHostAllowed(host) ? [] : IPAddress.TryParse(host, out var literal) ? [literal] : await ResolveAsync(host, ct);
        if (addresses.Length > 0 && addresses.All(a => policy.BlockReason(a) is not null))
        {
            return (null, new Problem(NotAllowedCode,
                $"{host} is a private, loopback or otherwise internal address ({addresses[0]} is in {policy.BlockReason(addresses[0])}); " +
                "webhooks may reach it only if the operator allows it in Flows:OutboundAllowList."));
        }
        // Plain http would carry payloads and signatures across the internet in clear; it is accepted only for receivers
        // the operator placed on the outbound allow-list (a service next to the marketplace, a test receiver).
        var operatorAllowed = policy.IsHostAllowed(host) || (addresses.Length > 0 && addresses.All(a => IsAllowListed(policy, a)));
        if (uri.Scheme == Uri.UriSchemeHttp && !operatorAllowed)
        {
            return (null, Invalid("Use https://; plain http is accepted only for receivers on the operator's outbound allow-list."));
        }
        return (uri.AbsoluteUri, null);
    }

    // Allowed now but refused by the built-in ranges: only the operator's allow-list lets such an address through.
    static bool IsAllowListed(OutboundPolicy policy, IPAddress address) =>
        policy.BlockReason(address) is null && NothingAllowed.BlockReason(address) is not null;

    static readonly OutboundPolicy NothingAllowed = new();

    static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ResolveTimeout);
        try
        {
            return await Dns.GetHostAddressesAsync(host, timeout.Token);
        }
        catch (Exception exception) when (exception is SocketException || (exception is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return [];
        }
    }

    static Problem Invalid(string message) => new(Platform.Errors.ProblemCodes.ValidationFailed, message);
}
