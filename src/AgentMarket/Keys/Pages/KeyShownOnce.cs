using AgentMarket.Platform.Ui;

namespace AgentMarket.Keys.Pages;

/// <summary>
/// Carries a new key's secret from the API keys page's post to the page it redirects to (<see cref="SecretShownOnce{T}"/>),
/// so a refresh cannot create or rotate a key again: sent only to that agent's keys page, and bound to the subscription
/// and the user.
/// </summary>
public static class KeyShownOnce
{
    static readonly SecretShownOnce<Secret> Cookie = new("AgentMarket.KeyShownOnce");

    public static string CookieName => Cookie.CookieName;

    /// <summary>A secret to show once: the key's new secret, and whether it replaced a previous one (a rotation).</summary>
    public sealed record Secret(Guid Config, Guid User, Guid Key, string Name, string Value, DateTime? GraceUntil, bool Rotated);

    /// <summary>The keys page of <paramref name="config"/>, the only path the cookie is sent to.</summary>
    public static string PagePath(Guid config) => $"/my-agents/{config}/keys";

    public static void Write(HttpContext context, Secret secret) =>
        Cookie.Write(context, PagePath(secret.Config), Holder(secret.Config, secret.User), secret);

    /// <summary>The secret the cookie carries for this subscription and user, or null; the cookie is deleted either way.</summary>
    public static Secret? Take(HttpContext context, Guid config, Guid user) =>
        Cookie.Take(context, PagePath(config), Holder(config, user));

    static string Holder(Guid config, Guid user) => $"{config:N}:{user:N}";
}
