using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace AgentMarket.Platform.Ui;

/// <summary>
/// Carries a secret a page's post made (an API key, a webhook signing secret) to the page the post redirects to
/// (post/redirect/get), so a refresh repeats neither the post nor the showing: a short-lived, HttpOnly, SameSite=Strict
/// cookie scoped to that page, its value encrypted and time-limited with Data Protection, bound to its holder (the user,
/// and what the page is about), and deleted by the first page view that reads it. The secret never goes in a URL, nor is
/// it stored on the server.
/// </summary>
public sealed class SecretShownOnce<T>(string cookieName) where T : class
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

    public string CookieName => cookieName;

    sealed record Sealed(string Holder, T Value);

    /// <summary>Sets the cookie, sent only to <paramref name="path"/> and read only by <paramref name="holder"/>.</summary>
    public void Write(HttpContext context, string path, string holder, T value)
    {
        var sealedValue = Protector(context).Protect(JsonSerializer.Serialize(new Sealed(holder, value)), Lifetime);
        context.Response.Cookies.Append(cookieName, sealedValue, Options(context, path, Lifetime));
    }

    /// <summary>
    /// The secret the cookie carries for this holder, or null (none, expired, tampered with, or written for another
    /// holder); the cookie is deleted either way, so the secret is shown at most once.
    /// </summary>
    public T? Take(HttpContext context, string path, string holder)
    {
        if (!context.Request.Cookies.TryGetValue(cookieName, out var value))
        {
            return null;
        }
        context.Response.Cookies.Delete(cookieName, Options(context, path, null));
        try
        {
            var opened = JsonSerializer.Deserialize<Sealed>(Protector(context).Unprotect(value));
            return opened is not null && opened.Holder == holder ? opened.Value : null;
        }
        catch (Exception e) when (e is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }

    ITimeLimitedDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector($"AgentMarket.ShownOnce.{cookieName}").ToTimeLimitedDataProtector();

    static CookieOptions Options(HttpContext context, string path, TimeSpan? maxAge) => new()
    {
        Path = path,
        HttpOnly = true,
        Secure = context.Request.IsHttps,
        SameSite = SameSiteMode.Strict,
        IsEssential = true,
        MaxAge = maxAge,
    };
}
