using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace AgentMarket.Flows.Net;

/// <summary>What the operator allows outbound requests to reach, and the caps on each request.</summary>
public sealed record OutboundPolicy
{
    /// <summary>Host names allowed even when they resolve to private addresses: exact (<c>api.internal</c>) or a wildcard (<c>*.corp.example</c>).</summary>
    public ImmutableArray<string> AllowedHosts { get; init; } = [];

    /// <summary>Networks allowed even though they are private, e.g. <c>127.0.0.1/32</c> for a local model server in tests.</summary>
    public ImmutableArray<IPNetwork> AllowedNetworks { get; init; } = [];

    /// <summary>Redirects followed per request; each one is checked like the first request.</summary>
    public int MaxRedirects { get; init; } = 5;

    /// <summary>Response bodies larger than this fail the request.</summary>
    public long MaxResponseBytes { get; init; } = 5 * 1024 * 1024;

    /// <summary>Time for one request including its redirects and body.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How host names are resolved; replaceable so tests can simulate DNS answers (rebinding, private answers).</summary>
    internal Func<string, CancellationToken, Task<IPAddress[]>> ResolveHost { get; init; } = Dns.GetHostAddressesAsync;

    /// <summary>Parses allow-list entries: CIDRs or IP addresses become networks, anything else a host name.</summary>
    public static OutboundPolicy FromAllowList(IEnumerable<string> entries)
    {
        var hosts = ImmutableArray.CreateBuilder<string>();
        var networks = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var entry in entries.Select(entry => entry.Trim()).Where(entry => entry.Length > 0))
        {
            if (IPNetwork.TryParse(entry, out var network))
            {
                networks.Add(network);
            }
            else if (IPAddress.TryParse(entry, out var address))
            {
                networks.Add(new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                hosts.Add(entry.ToLowerInvariant());
            }
        }

        return new OutboundPolicy { AllowedHosts = hosts.ToImmutable(), AllowedNetworks = networks.ToImmutable() };
    }

    /// <summary>True when <paramref name="host"/> is on the allow list, so any address it resolves to may be reached.</summary>
    public bool IsHostAllowed(string host)
    {
        host = host.ToLowerInvariant();
        foreach (var allowed in AllowedHosts)
        {
            if (allowed == host || (allowed.StartsWith("*.", StringComparison.Ordinal) && host.EndsWith(allowed[1..], StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Why <paramref name="address"/> is refused under this policy, or null when it may be reached.</summary>
    public string? BlockReason(IPAddress address)
    {
        foreach (var network in AllowedNetworks)
        {
            if (network.Contains(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address))
            {
                return null;
            }
        }

        return AddressRanges.BlockReason(address);
    }
}

/// <summary>An outbound request was refused because of where it would connect.</summary>
public sealed class OutboundBlockedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OutboundBlockedException(string host, string reason)
        : base($"Requests to \"{host}\" are not allowed: {reason}.")
    {
        Host = host;
    }

    /// <summary>Creates the exception.</summary>
    public OutboundBlockedException()
    {
        Host = "";
    }

    /// <summary>Creates the exception.</summary>
    public OutboundBlockedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Host = "";
    }

    /// <summary>The refused host.</summary>
    public string Host { get; }
}

/// <summary>An outbound request failed for another reason: too many redirects, too large, too slow, unreachable.</summary>
public sealed class OutboundRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OutboundRequestException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OutboundRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OutboundRequestException()
    {
    }
}

/// <summary>A buffered response.</summary>
/// <param name="StatusCode">HTTP status.</param>
/// <param name="FinalUri">The URI after redirects.</param>
/// <param name="ContentType">Media type, if any.</param>
/// <param name="Headers">Response and content headers (first value each).</param>
/// <param name="Body">The body, at most the policy's cap.</param>
public sealed record OutboundResponse(int StatusCode, Uri FinalUri, string? ContentType, ImmutableDictionary<string, string> Headers, ReadOnlyMemory<byte> Body)
{
    /// <summary>The body decoded with the response charset (UTF-8 by default).</summary>
    public string Text
    {
        get
        {
            var charset = Headers.TryGetValue("Content-Type", out var contentType) && MediaTypeHeaderValue.TryParse(contentType, out var media) ? media.CharSet : null;
            Encoding encoding;
            try
            {
                encoding = charset is null ? Encoding.UTF8 : Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                encoding = Encoding.UTF8;
            }

            return encoding.GetString(Body.Span);
        }
    }
}

/// <summary>Per-request options of <see cref="OutboundGuard.SendAsync"/>.</summary>
public sealed record OutboundRequestOptions
{
    /// <summary>Follow redirects (each hop is checked and counted); false returns the 3xx response.</summary>
    public bool FollowRedirects { get; init; } = true;

    /// <summary>Overrides the policy's time cap.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>Called before every hop, redirects included: the engine counts outbound requests here.</summary>
    public Action? BeforeEachRequest { get; init; }
}

/// <summary>
/// The outbound HTTP gate for flows (URL, API Request) and for the host's webhooks. The address check happens in
/// <see cref="SocketsHttpHandler.ConnectCallback"/>, on the address actually connected to, so a hostname resolving
/// to a private address, DNS rebinding and redirects to private addresses are all refused. Redirects are followed
/// by hand with a cap; bodies and time are capped. Thread-safe; create one per policy and share it.
/// </summary>
public sealed class OutboundGuard : IDisposable
{
    static readonly Lazy<OutboundGuard> DefaultGuard = new(() => new OutboundGuard(new OutboundPolicy()));

    static readonly FrozenSet<string> HeadersSafeAcrossOrigins = FrozenSet.ToFrozenSet(
        ["Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Cache-Control", "User-Agent"], StringComparer.OrdinalIgnoreCase);

    readonly SocketsHttpHandler _handler;
    readonly HttpMessageInvoker _invoker;

    /// <summary>Creates a guard for <paramref name="policy"/>.</summary>
    public OutboundGuard(OutboundPolicy policy)
    {
        Policy = policy;
        _handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            ConnectCallback = ConnectAsync,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            AutomaticDecompression = DecompressionMethods.All,
            UseProxy = false,
            UseCookies = false,
        };
        _invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
    }

    /// <summary>A shared guard with the default policy: nothing private is reachable.</summary>
    public static OutboundGuard Default => DefaultGuard.Value;

    /// <summary>The policy; the host may replace it whole (an operator changed the allow-list) and the next connection uses the new one.</summary>
    public OutboundPolicy Policy { get; set; }

    /// <summary>
    /// The guarded handler (no automatic redirects) for callers that manage their own <see cref="HttpClient"/>;
    /// use <see cref="SendAsync"/> to get redirects, size and time caps too.
    /// </summary>
    public HttpMessageHandler Handler => _handler;

    /// <summary>Sends a request through the guard and buffers the response body up to the policy's cap.</summary>
    /// <exception cref="OutboundBlockedException">A hop would connect to a refused address.</exception>
    /// <exception cref="OutboundRequestException">Too many redirects, too large, too slow, or unreachable.</exception>
    public async Task<OutboundResponse> SendAsync(HttpRequestMessage request, OutboundRequestOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        options ??= new OutboundRequestOptions();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout ?? Policy.Timeout);
        byte[]? content = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        var current = request;
        try
        {
            for (var hop = 0; ; hop++)
            {
                CheckUri(current.RequestUri);
                options.BeforeEachRequest?.Invoke();
                using var response = await SendOnceAsync(current, timeout.Token);
                var location = response.Headers.Location;
                if (options.FollowRedirects && IsRedirect(response.StatusCode) && location is not null)
                {
                    if (hop >= Policy.MaxRedirects)
                    {
                        throw new OutboundRequestException($"More than {Policy.MaxRedirects} redirects.");
                    }

                    var next = Redirected(current, response.StatusCode, new Uri(current.RequestUri!, location), content);
                    if (!ReferenceEquals(current, request))
                    {
                        current.Dispose();
                    }

                    current = next;
                    continue;
                }

                var body = await ReadCappedAsync(response, timeout.Token);
                var headers = response.Headers.Concat(response.Content.Headers)
                    .GroupBy(header => header.Key, StringComparer.OrdinalIgnoreCase)
                    .ToImmutableDictionary(group => group.Key, group => string.Join(", ", group.First().Value), StringComparer.OrdinalIgnoreCase);
                return new OutboundResponse((int)response.StatusCode, current.RequestUri!, response.Content.Headers.ContentType?.MediaType, headers, body);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new OutboundRequestException($"The request to {current.RequestUri?.Host} took longer than {(options.Timeout ?? Policy.Timeout).TotalSeconds:0.#} s.");
        }
        finally
        {
            if (!ReferenceEquals(current, request))
            {
                current.Dispose();
            }
        }
    }

    async Task<HttpResponseMessage> SendOnceAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await _invoker.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException exception) when (Find<OutboundBlockedException>(exception) is { } blocked)
        {
            throw blocked;
        }
        catch (HttpRequestException exception)
        {
            throw new OutboundRequestException($"The request to {request.RequestUri?.Host} failed: {exception.Message}", exception);
        }
    }

    static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    void CheckUri(Uri? uri)
    {
        if (uri is null || !uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OutboundBlockedException(uri?.ToString() ?? "(none)", "only absolute http and https URLs are allowed");
        }

        // Literal addresses fail here with a clear message; names are checked when connecting.
        if (IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal) && Policy.BlockReason(literal) is { } range)
        {
            throw new OutboundBlockedException(uri.Host, $"{literal} is in {range}");
        }
    }

    async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var hostAllowed = Policy.IsHostAllowed(host);
        IPAddress[] addresses;
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            addresses = [literal];
        }
        else
        {
            try
            {
                addresses = await Policy.ResolveHost(host, cancellationToken);
            }
            catch (SocketException exception)
            {
                throw new OutboundRequestException($"The host \"{host}\" could not be resolved.", exception);
            }
        }

        var allowed = hostAllowed ? addresses : [.. addresses.Where(address => Policy.BlockReason(address) is null)];
        if (allowed.Length == 0)
        {
            var reason = addresses.Length == 0
                ? "it has no address"
                : IPAddress.TryParse(host.Trim('[', ']'), out _)
                    ? $"{addresses[0]} is in {Policy.BlockReason(addresses[0])}"
                    : $"it resolves to {addresses[0]}, which is in {Policy.BlockReason(addresses[0])}";
            throw new OutboundBlockedException(host, reason);
        }

        Exception? last = null;
        foreach (var address in allowed)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, context.DnsEndPoint.Port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException exception)
            {
                socket.Dispose();
                last = exception;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new OutboundRequestException($"Could not connect to \"{host}\".", last!);
    }

    async Task<ReadOnlyMemory<byte>> ReadCappedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > Policy.MaxResponseBytes)
        {
            throw new OutboundRequestException($"The response is larger than {Policy.MaxResponseBytes} bytes.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > Policy.MaxResponseBytes)
            {
                throw new OutboundRequestException($"The response is larger than {Policy.MaxResponseBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther
        or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    /// <summary>
    /// True when both URLs have the same scheme, host and port. A credential configured for one origin goes only there:
    /// not to another host, not to another port of the same host, and not over plain http when it was meant for https.
    /// </summary>
    public static bool SameOrigin(Uri first, Uri second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return string.Equals(first.Scheme, second.Scheme, StringComparison.OrdinalIgnoreCase) &&
               string.Equals(first.IdnHost, second.IdnHost, StringComparison.OrdinalIgnoreCase) &&
               first.Port == second.Port;
    }

    internal static HttpRequestMessage Redirected(HttpRequestMessage previous, HttpStatusCode status, Uri location, byte[]? content)
    {
        // 303, and 301/302 after a POST, become GET as browsers do; 307/308 repeat the method and body.
        var keepMethod = status is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect ||
                         (status != HttpStatusCode.SeeOther && previous.Method == HttpMethod.Get);
        var next = new HttpRequestMessage(keepMethod ? previous.Method : HttpMethod.Get, location);
        // Leaving the origin, only headers that cannot carry a credential follow: a key may sit in any header
        // (Authorization, x-api-key, api-key, a cookie), and it was meant for the origin the flow named. Once dropped,
        // a header stays dropped, since each hop copies the one before.
        var sameOrigin = previous.RequestUri is { } from && SameOrigin(from, location);
        foreach (var header in previous.Headers)
        {
            if (sameOrigin || HeadersSafeAcrossOrigins.Contains(header.Key))
            {
                next.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        if (keepMethod && content is not null)
        {
            next.Content = new ByteArrayContent(content);
            if (previous.Content?.Headers.ContentType is { } contentType)
            {
                next.Content.Headers.ContentType = contentType;
            }
        }

        return next;
    }

    /// <summary>Releases the connection pool.</summary>
    public void Dispose()
    {
        _invoker.Dispose();
        _handler.Dispose();
    }
}
