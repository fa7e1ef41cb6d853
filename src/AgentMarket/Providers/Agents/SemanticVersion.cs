using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace AgentMarket.Providers.Agents;

/// <summary>
/// <c>MAJOR.MINOR.PATCH</c> (no pre-release or build suffixes: a version is something buyers can subscribe to).
/// Subscriptions follow patch releases automatically and other releases on the buyer's consent.
/// </summary>
public readonly record struct SemanticVersion(int Major, int Minor, int Patch) : IComparable<SemanticVersion>
{
    public const int MaxPart = 999_999;

    public static SemanticVersion First { get; } = new(1, 0, 0);

    public static bool TryParse([NotNullWhen(true)] string? text, out SemanticVersion version)
    {
        version = default;
        var parts = (text ?? "").Trim().TrimStart('v', 'V').Split('.');
        if (parts.Length != 3)
        {
            return false;
        }
        var numbers = new int[3];
        for (var i = 0; i < 3; i++)
        {
            // Leading zeros are ambiguous ("01") and signs meaningless; semver forbids both.
            if (parts[i].Length is 0 or > 6 || (parts[i].Length > 1 && parts[i][0] == '0') || !parts[i].All(char.IsAsciiDigit))
            {
                return false;
            }
            numbers[i] = int.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        version = new SemanticVersion(numbers[0], numbers[1], numbers[2]);
        return true;
    }

    /// <summary>
    /// The version given to an import that names none: the next minor release. A change the seller did not classify
    /// is not assumed to be a fix, so subscribers are asked before they move to it.
    /// </summary>
    public SemanticVersion NextMinor() => new(Major, Minor + 1, 0);

    /// <summary>True when this is a later release of the same major.minor line (buyers get these automatically).</summary>
    public bool IsPatchUpgradeOf(SemanticVersion other) => Major == other.Major && Minor == other.Minor && Patch > other.Patch;

    public int CompareTo(SemanticVersion other) =>
        Major != other.Major ? Major.CompareTo(other.Major) : Minor != other.Minor ? Minor.CompareTo(other.Minor) : Patch.CompareTo(other.Patch);

    public static bool operator <(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(SemanticVersion left, SemanticVersion right) => left.CompareTo(right) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}");
}
