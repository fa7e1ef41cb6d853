using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Widget;

/// <summary>
/// What a widget session token says: which key opened it (or, for the agent page's playground, which listing and which
/// signed-in user, if any), for which page origin and visitor, until when.
/// </summary>
public sealed record WidgetSession(Guid KeyId, string Origin, string VisitorId, string ConversationId, DateTime ExpiresUtc)
{
    /// <summary>The listing a playground session tries; null for a session opened with a publishable key.</summary>
    public Guid? ListingId { get; init; }

    /// <summary>The user signed in when the playground session opened; the same user must still be signed in to use it.</summary>
    public Guid? UserId { get; init; }

    public bool IsPlayground => ListingId is not null;

    /// <summary>
    /// The gateway session (memory and credit cap) of this conversation. It is built from the signed token, never taken
    /// from the request, so a visitor can reach only their own conversations.
    /// </summary>
    public string GatewaySessionId => $"widget-{VisitorId}-{ConversationId}";
}

/// <summary>
/// Issues and reads widget session tokens: Data Protection's authenticated encryption (keys shared by every replica
/// through the database) over the key id, the page's origin, the visitor, the conversation and an expiry. The token
/// holds no secret and names no tenant: it is worth nothing without the origin it is bound to, for as long as its key
/// lives, until it expires. The expiry is checked against the app's <see cref="TimeProvider"/>.
/// </summary>
public sealed class WidgetTokens(IDataProtectionProvider protection, TimeProvider clock, IOptions<WidgetOptions> options)
{
    const string Purpose = "AgentMarket.Widget.SessionToken.v1";

    /// <summary>The first field of a playground token's payload (a key token's first field is a key id, never this).</summary>
    const string PlaygroundTag = "try";

    /// <summary>Longer than any token we issue; anything longer is refused before decryption.</summary>
    public const int MaxTokenLength = 1_000;

    readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    public (string Token, WidgetSession Session) Issue(Guid keyId, string origin, string visitorId, string conversationId)
    {
        var expires = clock.GetUtcNow().UtcDateTime.AddMinutes(options.Value.SessionMinutes);
        var session = new WidgetSession(keyId, origin, visitorId, conversationId, expires);
        var payload = string.Join('|', keyId.ToString("N"), origin, visitorId, conversationId, expires.Ticks.ToString(CultureInfo.InvariantCulture));
        return (_protector.Protect(payload), session);
    }

    /// <summary>A playground session: the agent page's own widget, for a visitor (and the user signed in, if any).</summary>
    public (string Token, WidgetSession Session) IssuePlayground(Guid listingId, Guid? userId, string origin, string visitorId, string conversationId)
    {
        var expires = clock.GetUtcNow().UtcDateTime.AddMinutes(options.Value.SessionMinutes);
        var session = new WidgetSession(Guid.Empty, origin, visitorId, conversationId, expires) { ListingId = listingId, UserId = userId };
        var payload = string.Join('|', PlaygroundTag, listingId.ToString("N"), userId?.ToString("N") ?? "", origin, visitorId, conversationId,
            expires.Ticks.ToString(CultureInfo.InvariantCulture));
        return (_protector.Protect(payload), session);
    }

    /// <summary>The session a token carries, expired or not; null when the token is not one we issued.</summary>
    public WidgetSession? Read(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return null;
        }
        string payload;
        try
        {
            payload = _protector.Unprotect(token);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
        var parts = payload.Split('|');
        if (parts is [PlaygroundTag, var listing, var user, var origin, var visitor, var conversation, var expires])
        {
            return Guid.TryParseExact(listing, "N", out var listingId) && Expiry(expires) is { } playgroundExpiry
                && (user.Length == 0 || Guid.TryParseExact(user, "N", out _))
                ? new WidgetSession(Guid.Empty, origin, visitor, conversation, playgroundExpiry)
                {
                    ListingId = listingId,
                    UserId = user.Length == 0 ? null : Guid.ParseExact(user, "N"),
                }
                : null;
        }
        return parts.Length == 5 && Guid.TryParseExact(parts[0], "N", out var keyId) && Expiry(parts[4]) is { } expiry
            ? new WidgetSession(keyId, parts[1], parts[2], parts[3], expiry)
            : null;
    }

    static DateTime? Expiry(string ticks) =>
        long.TryParse(ticks, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 3155378975999999999
            ? new DateTime(value, DateTimeKind.Utc)
            : null;

    public bool HasExpired(WidgetSession session) => session.ExpiresUtc <= clock.GetUtcNow().UtcDateTime;

    /// <summary>A new visitor or conversation id: 32 random hex digits.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether a visitor or conversation id the widget sends back has the shape of one we gave out.</summary>
    public static bool IsId(string? value) => value is { Length: 32 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
