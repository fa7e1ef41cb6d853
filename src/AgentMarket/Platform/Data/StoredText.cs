using System.Diagnostics.CodeAnalysis;

namespace AgentMarket.Platform.Data;

/// <summary>
/// What text columns can hold on both databases: PostgreSQL refuses U+0000 in text (error 22021) where SQLite keeps it.
/// Input that would be stored is checked for it where it enters, and refused with 400 rather than failing mid-write;
/// text the platform did not take from a caller (a model's answer, what a flow made of a parsed payload) is made
/// storable where it is written instead (ADR-147).
/// </summary>
public static class StoredText
{
    /// <summary>What replaces U+0000 in stored text: Unicode's mark for a character that could not be represented.</summary>
    public const char Replacement = '\uFFFD';

    public static bool HasNul(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);

    /// <summary><paramref name="text"/> with each U+0000 replaced by <see cref="Replacement"/>: the same length, storable on both databases.</summary>
    [return: NotNullIfNotNull(nameof(text))]
    public static string? Storable(string? text) => HasNul(text) ? text!.Replace('\0', Replacement) : text;
}
