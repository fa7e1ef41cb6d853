namespace AgentMarket.Platform.Data;

/// <summary>
/// What text columns can hold on both databases: PostgreSQL refuses U+0000 in text (error 22021) where SQLite keeps it,
/// so input that would be stored is checked for it where it enters, and refused with 400 rather than failing mid-write.
/// </summary>
public static class StoredText
{
    public static bool HasNul(string? text) => text is not null && text.Contains('\0', StringComparison.Ordinal);
}
