using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;

namespace AgentMarket.Webhooks;

/// <summary>
/// Endpoint secrets and signatures as the Standard Webhooks specification defines them: a secret is <c>whsec_</c> +
/// base64 of random bytes; a signature is <c>v1,</c> + base64 HMAC-SHA256, keyed with the decoded bytes, of
/// <c>{webhook-id}.{webhook-timestamp}.{body}</c>. Secrets are stored encrypted and decrypted only to sign.
/// </summary>
public sealed class WebhookSecrets(IDataProtectionProvider protection)
{
    public const string Prefix = "whsec_";
    public const string Purpose = "AgentMarket.Webhooks.EndpointSecret";

    // 32 bytes: the specification asks for 24 to 64.
    const int SecretBytes = 32;

    readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);

    /// <summary>The <c>v1,…</c> signature of one message with one secret.</summary>
    public static string Sign(string secret, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        var key = Convert.FromBase64String(secret.StartsWith(Prefix, StringComparison.Ordinal) ? secret[Prefix.Length..] : secret);
        var header = Encoding.UTF8.GetBytes($"{messageId}.{timestamp}.");
        var signed = new byte[header.Length + body.Length];
        header.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(header.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }
}
