using System.Collections.Concurrent;
using ModelContextProtocol.Protocol;

namespace AgentMarket.Doors.Mcp;

/// <summary>
/// The tool calls in flight in this process, so that a client's <c>notifications/cancelled</c> can reach the call it
/// names (MCP 2025-06-18, cancellation): the door is stateless per POST, so the notification arrives in a POST of its
/// own, to a server that never saw the call. A call is found by who made it (the organization, and the key or the user
/// of the token), the client's <c>Mcp-Session-Id</c> if it sent one, and the request id: a caller naming another's id
/// finds nothing. A cancellation that reaches a replica not serving the call is ignored, as the spec lets a receiver do.
/// </summary>
sealed class McpCalls
{
    readonly ConcurrentDictionary<Call, CancellationTokenSource> _inFlight = new();

    /// <summary>One call of one caller: every part must match for a cancellation to reach it.</summary>
    public readonly record struct Call(Guid OrganizationId, Guid? KeyId, Guid? UserId, string? McpSession, RequestId RequestId);

    /// <summary>
    /// Registers <paramref name="call"/> until the returned lease is disposed; its token is cancelled by a matching
    /// <see cref="Cancel"/>. A second call with an id still in flight (which JSON-RPC forbids) is not registered: a
    /// cancellation names the first.
    /// </summary>
    public Lease Start(Call call)
    {
        var cancellation = new CancellationTokenSource();
        return new Lease(this, call, cancellation, _inFlight.TryAdd(call, cancellation));
    }

    /// <summary>Cancels <paramref name="call"/> if it is in flight here; invalid or unknown ones are ignored, as the spec says.</summary>
    public void Cancel(Call call)
    {
        if (_inFlight.TryGetValue(call, out var cancellation))
        {
            try
            {
                cancellation.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The call ended in between.
            }
        }
    }

    public sealed class Lease(McpCalls calls, Call call, CancellationTokenSource cancellation, bool registered) : IDisposable
    {
        public CancellationToken Token => cancellation.Token;

        public void Dispose()
        {
            if (registered)
            {
                calls._inFlight.TryRemove(new KeyValuePair<Call, CancellationTokenSource>(call, cancellation));
            }
            cancellation.Dispose();
        }
    }
}
