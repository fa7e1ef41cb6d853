using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Widget;

/// <summary>What a widget session token says: which key opened it, for which page origin and visitor, until when.</summary>
public sealed record WidgetSession(Guid KeyId, string Origin, string VisitorId, string ConversationId, DateTime ExpiresUtc)
{
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
        return parts.Length == 5 && Guid.TryParseExact(parts[0], "N", out var keyId)
            && long.TryParse(parts[4], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks is > 0 and <= 3155378975999999999
            ? new WidgetSession(keyId, parts[1], parts[2], parts[3], new DateTime(ticks, DateTimeKind.Utc))
            : null;
    }

    public bool HasExpired(WidgetSession session) => session.ExpiresUtc <= clock.GetUtcNow().UtcDateTime;

    /// <summary>A new visitor or conversation id: 32 random hex digits.</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>Whether a visitor or conversation id the widget sends back has the shape of one we gave out.</summary>
    public static bool IsId(string? value) => value is { Length: 32 } && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');
}
