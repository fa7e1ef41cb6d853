using System.Security.Cryptography;
using System.Text;

namespace AgentMarket.Platform.Auth;

/// <summary>
/// Secrets handed to users (personal access tokens, API keys): a recognisable prefix, 32 random base62 characters
/// (≈190 bits) and a 6-character checksum, as GitHub's tokens have, so secret scanners can spot them and a mistyped
/// token is refused without a database lookup. Stored only as SHA-256: the secret is random, so a slow hash adds nothing.
/// </summary>
public static class SecretToken
{
    const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const int RandomLength = 32;
    const int ChecksumLength = 6;

    public static string Generate(string prefix)
    {
        Span<char> body = stackalloc char[RandomLength];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }
        var random = new string(body);
        return prefix + random + Checksum(random);
    }

    /// <summary>True when the token has the prefix, the right length and a matching checksum.</summary>
    public static bool IsWellFormed(string token, string prefix)
    {
        if (!token.StartsWith(prefix, StringComparison.Ordinal) || token.Length != prefix.Length + RandomLength + ChecksumLength)
        {
            return false;
        }
        var random = token.AsSpan(prefix.Length, RandomLength);
        foreach (var c in random)
        {
            if (!Alphabet.Contains(c, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return token.AsSpan(prefix.Length + RandomLength).SequenceEqual(Checksum(random.ToString()));
    }

    /// <summary>Lower-case hex SHA-256 of the whole token, the only form that is stored.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>What lists show: the prefix and the first characters of the secret.</summary>
    public static string DisplayPrefix(string token, string prefix) => token[..Math.Min(token.Length, prefix.Length + 6)];

    static string Checksum(string random)
    {
        var digest = SHA256.HashData(Encoding.ASCII.GetBytes(random));
        var value = BitConverter.ToUInt32(digest, 0);
        Span<char> checksum = stackalloc char[ChecksumLength];
        for (var i = ChecksumLength - 1; i >= 0; i--)
        {
            checksum[i] = Alphabet[(int)(value % (uint)Alphabet.Length)];
            value /= (uint)Alphabet.Length;
        }
        return new string(checksum);
    }
}
