using System.Globalization;

namespace AgentMarket.Platform.Api;

/// <summary>
/// The UTC day range of a report (usage, earnings): <c>?from=&amp;to=</c> as <c>yyyy-MM-dd</c>, both included; by default
/// the last <see cref="DefaultDays"/> days up to today, and never more than <see cref="MaxDays"/> at a time.
/// </summary>
public static class DayRange
{
    public const int MaxDays = 366;
    public const int DefaultDays = 30;

    /// <summary>The range asked for, or the parameter that is wrong and why.</summary>
    public static ((DateOnly From, DateOnly To)? Range, string? Field, string? Problem) Parse(string? from, string? to, DateOnly today)
    {
        if (!TryParseDay(to, out var last))
        {
            return (null, "to", "Use a date like 2026-01-31.");
        }
        if (!TryParseDay(from, out var first))
        {
            return (null, "from", "Use a date like 2026-01-31.");
        }
        var end = last ?? today;
        var start = first ?? end.AddDays(1 - DefaultDays);
        if (start > end)
        {
            return (null, "from", "The first day must not be after the last.");
        }
        if (end.DayNumber - start.DayNumber + 1 > MaxDays)
        {
            return (null, "to", $"Ask for at most {MaxDays} days at a time.");
        }
        return ((start, end), null, null);
    }

    static bool TryParseDay(string? text, out DateOnly? day)
    {
        day = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            day = parsed;
            return true;
        }
        return false;
    }
}
