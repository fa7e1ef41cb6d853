using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AgentMarket.Identity;

/// <summary>
/// One sign-in of a user in one browser: the sign-in cookie carries its id, and the cookie works only while the session
/// is not ended (ADR-132). Not tenant-owned: a session is the user's, whichever organization they work in.
/// </summary>
public sealed class UserSession
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid UserId { get; init; }
    public DateTime CreatedUtc { get; init; }

    /// <summary>When the cookie was last used, to within <see cref="SessionStamps.LastSeenPrecision"/>.</summary>
    public DateTime LastSeenUtc { get; set; }

    /// <summary>What the user agent said it was, shortened ("Firefox on Windows"), so the user can tell sessions apart.</summary>
    public required string Device { get; init; }

    /// <summary>The client's address as the app saw it (the proxy's, behind one that is not configured as trusted).</summary>
    public string? IpAddress { get; init; }

    /// <summary>When the user signed out of it, ended it from another session, or changed their password.</summary>
    public DateTime? EndedUtc { get; set; }
}

sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> e)
    {
        e.ToTable("user_sessions");
        e.Property(x => x.Device).HasMaxLength(DeviceDescription.MaxLength);
        e.Property(x => x.IpAddress).HasMaxLength(45); // the longest IPv6 text form
        e.HasOne<User>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        e.HasIndex(x => x.UserId);
    }
}

/// <summary>A short description of a user agent: the browser and operating system, or the client's own name.</summary>
public static class DeviceDescription
{
    public const int MaxLength = 100;
    public const string Unknown = "Unknown device";

    // Order matters: Edge and Opera also say Chrome and Safari; Chrome says Safari; iPhones say "like Mac OS X".
    static readonly (string Token, string Name)[] Browsers =
    [
        ("Edg", "Edge"), ("OPR/", "Opera"), ("Opera", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chrome/", "Chrome"), ("Safari/", "Safari"),
    ];

    static readonly (string Token, string Name)[] Systems =
    [
        ("Windows", "Windows"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
        ("Macintosh", "macOS"), ("Mac OS X", "macOS"), ("Linux", "Linux"),
    ];

    public static string From(string? userAgent)
    {
        if (string.IsNullOrWhiteSpace(userAgent))
        {
            return Unknown;
        }
        var browser = Browsers.FirstOrDefault(b => userAgent.Contains(b.Token, StringComparison.Ordinal)).Name;
        var system = Systems.FirstOrDefault(s => userAgent.Contains(s.Token, StringComparison.Ordinal)).Name;
        if (browser is null && !userAgent.StartsWith("Mozilla/", StringComparison.Ordinal))
        {
            // Not a browser (curl/8.5.0, python-requests/2.31): its product name, without the version.
            var product = userAgent.Trim().Split([' ', '/'], 2)[0];
            return product.Length is > 0 and <= 40 ? product : Unknown;
        }
        browser ??= "Unknown browser";
        return system is null ? browser : $"{browser} on {system}";
    }
}
