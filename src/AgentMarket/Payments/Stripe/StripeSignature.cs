using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AgentMarket.Payments.Stripe;

/// <summary>
/// Verifies Stripe's <c>Stripe-Signature</c> header: <c>t={unix seconds},v1={hex HMAC-SHA256}[,v1=…][,v0=…]</c>, where
/// each <c>v1</c> is the HMAC-SHA256 of <c>"{t}.{raw body}"</c> keyed with the endpoint's signing secret. Several
/// <c>v1</c> values appear while a secret is being rolled; other schemes are ignored, as Stripe's own libraries do.
/// </summary>
static class StripeSignature
{
    const string Scheme = "v1";
    static readonly long MaxTimestamp = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>True when one <c>v1</c> signature matches the body and the timestamp is within <paramref name="tolerance"/> of <paramref name="now"/>.</summary>
    public static bool IsValid(string? header, ReadOnlySpan<byte> body, string secret, DateTimeOffset now, TimeSpan tolerance)
    {
        if (string.IsNullOrWhiteSpace(header) || !TryParse(header, out var timestamp, out var signatures) || signatures.Count == 0)
        {
            return false;
        }
        // A captured request replayed later fails here even with a valid signature. Timestamps from the future are
        // refused too: the tolerance covers clock skew in both directions.
        if ((now - DateTimeOffset.FromUnixTimeSeconds(timestamp)).Duration() > tolerance)
        {
            return false;
        }
        var expected = Compute(timestamp, body, secret);
        var matched = false;
        foreach (var signature in signatures)
        {
            // Compare every candidate in constant time; no early exit reveals which one (or how much of one) matched.
            matched |= signature.Length == expected.Length && CryptographicOperations.FixedTimeEquals(signature, expected);
        }
        return matched;
    }

    /// <summary>The <c>v1</c> signature of <paramref name="body"/> signed at <paramref name="timestamp"/>: what Stripe sends.</summary>
    public static byte[] Compute(long timestamp, ReadOnlySpan<byte> body, string secret)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
    }

    static bool TryParse(string header, out long timestamp, out List<byte[]> signatures)
    {
        timestamp = 0;
        signatures = [];
        var hasTimestamp = false;
        foreach (var item in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = item.IndexOf('=', StringComparison.Ordinal);
            if (separator <= 0)
            {
                return false;
            }
            var key = item[..separator];
            var value = item[(separator + 1)..];
            if (key == "t")
            {
                if (hasTimestamp || !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out timestamp) || timestamp > MaxTimestamp)
                {
                    return false;
                }
                hasTimestamp = true;
            }
            else if (key == Scheme && value.Length == 64)
            {
                var signature = new byte[32];
                if (Convert.FromHexString(value, signature, out _, out var written) == OperationStatus.Done && written == signature.Length)
                {
                    signatures.Add(signature);
                }
            }
        }
        return hasTimestamp;
    }
}
