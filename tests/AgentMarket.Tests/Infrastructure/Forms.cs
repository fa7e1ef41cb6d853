using System.Text.RegularExpressions;

namespace AgentMarket.Tests.Infrastructure;

/// <summary>Reads what a browser would submit from a server-rendered form.</summary>
public static partial class Forms
{
    public static string HiddenValue(string html, string name)
    {
        var match = HiddenInput().Matches(html).FirstOrDefault(m => m.Groups["name"].Value == name);
        Assert.True(match is not null, $"no hidden input named {name} in the page");
        return System.Net.WebUtility.HtmlDecode(match.Groups["value"].Value);
    }

    [GeneratedRegex("<input[^>]*name=\"(?<name>[^\"]+)\"[^>]*value=\"(?<value>[^\"]*)\"", RegexOptions.IgnoreCase)]
    private static partial Regex HiddenInput();
}
