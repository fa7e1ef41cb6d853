namespace AgentMarket.Platform.Ui;

/// <summary>Return URLs come from the query string, so only local paths are followed (no open redirects).</summary>
public static class LocalUrl
{
    public static string OrDefault(string? url, string fallback) => IsLocalPath(url) ? url! : fallback;

    /// <summary>
    /// A path on this site: one leading slash, not two. Browsers drop tabs and line breaks anywhere in a URL and read a
    /// backslash as a slash, so <c>/\t/evil.example</c> or <c>/\evil.example</c> would reach another host as
    /// <c>//evil.example</c>: control characters and backslashes are refused outright.
    /// </summary>
    static bool IsLocalPath(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal)
        && !url.Contains('\\', StringComparison.Ordinal) && !url.Any(c => c < '\u0020' || c == '\u007F');
}
