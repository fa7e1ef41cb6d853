using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace AgentMarket.Keys.Pages;

/// <summary>
/// Carries a new secret from the API keys page's post to the page it redirects to (post/redirect/get), so a refresh cannot
/// create or rotate a key again: a short-lived, HttpOnly, SameSite=Strict cookie scoped to that agent's keys page, its
/// value encrypted and time-limited with Data Protection, bound to the subscription and the user, and deleted by the
/// first page view that reads it. The secret never goes in a URL, nor is it stored on the server.
/// </summary>
public static class KeyShownOnce
{
    public const string CookieName = "AgentMarket.KeyShownOnce";
    public const string Purpose = "AgentMarket.Keys.ShownOnce";
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    /// <summary>A secret to show once: the key's new secret, and whether it replaced a previous one (a rotation).</summary>
    public sealed record Secret(Guid Config, Guid User, Guid Key, string Name, string Value, DateTime? GraceUntil, bool Rotated);

    /// <summary>The keys page of <paramref name="config"/>, the only path the cookie is sent to.</summary>
    public static string PagePath(Guid config) => $"/my-agents/{config}/keys";

    public static void Write(HttpContext context, Secret secret)
    {
        var protector = Protector(context);
        var value = protector.Protect(JsonSerializer.Serialize(secret), Lifetime);
        context.Response.Cookies.Append(CookieName, value, Options(context, secret.Config, Lifetime));
    }

    /// <summary>
    /// The secret the cookie carries for this subscription and user, or null (expired, tampered with, or made for another
    /// subscription or user); the cookie is deleted either way, so the secret is shown at most once.
    /// </summary>
    public static Secret? Take(HttpContext context, Guid config, Guid user)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var value))
        {
            return null;
        }
        context.Response.Cookies.Delete(CookieName, Options(context, config, null));
        try
        {
            var secret = JsonSerializer.Deserialize<Secret>(Protector(context).Unprotect(value));
            return secret is not null && secret.Config == config && secret.User == user ? secret : null;
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }

    static ITimeLimitedDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose).ToTimeLimitedDataProtector();

    static CookieOptions Options(HttpContext context, Guid config, TimeSpan? maxAge) => new()
    {
        Path = PagePath(config),
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Strict,
        IsEssential = true,
        MaxAge = maxAge,
    };
}
