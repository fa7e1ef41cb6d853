using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace AgentMarket.Backstage;

/// <summary>
/// Backstage's entity naming rules (catalog-model's KubernetesValidatorFunctions / makeValidator): names are
/// <c>^[a-z0-9A-Z]([-_.]?[a-z0-9A-Z])*$</c> and at most 63 characters; tags are <c>^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$</c>,
/// at most 63. Our slugs and tags are close but not identical (slugs may reach 80 characters, tags are free text), so
/// every value is mapped before it is written: an entity the catalog rejects would hide every other entity of the file.
/// </summary>
static partial class BackstageNames
{
    public const int MaxLength = 63;

    /// <summary>A valid entity name for <paramref name="value"/>, ending in <paramref name="suffix"/>; long names are
    /// cut and get a short hash of the full value so two long slugs with the same start stay distinct.</summary>
    public static string Name(string value, string suffix = "")
    {
        var cleaned = InvalidNameRun().Replace(value, "-").Trim('-', '_', '.');
        cleaned = RepeatedSeparator().Replace(cleaned, "-");
        if (cleaned.Length == 0)
        {
            cleaned = "x" + Hash(value);
        }
        if (cleaned.Length + suffix.Length > MaxLength)
        {
            var hash = "-" + Hash(value);
            cleaned = cleaned[..(MaxLength - suffix.Length - hash.Length)].TrimEnd('-', '_', '.') + hash;
        }
        return cleaned + suffix;
    }

    /// <summary>A valid tag for a free-text tag or category, or null when nothing usable is left.</summary>
    public static string? Tag(string value)
    {
        var lowered = InvalidTagRun().Replace(WithoutAccents(value.Trim().ToLowerInvariant()), "-");
        var tag = RepeatedHyphen().Replace(lowered, "-").Trim('-');
        if (tag.Length > MaxLength)
        {
            tag = tag[..MaxLength].TrimEnd('-');
        }
        return tag.Length == 0 ? null : tag;
    }

    // "café" becomes "cafe" rather than "caf": decompose, then drop the combining marks.
    static string WithoutAccents(string text) =>
        string.Concat(text.Normalize(NormalizationForm.FormD).Where(c => CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark));

    static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..8];

    [GeneratedRegex("[^a-zA-Z0-9_.-]+")]
    private static partial Regex InvalidNameRun();

    // A separator must stand between two letters or digits: collapse runs like "a--b" or "a-.b" into one hyphen.
    [GeneratedRegex("[-_.]{2,}")]
    private static partial Regex RepeatedSeparator();

    [GeneratedRegex("[^a-z0-9:+#]+")]
    private static partial Regex InvalidTagRun();

    [GeneratedRegex("-{2,}")]
    private static partial Regex RepeatedHyphen();
}
