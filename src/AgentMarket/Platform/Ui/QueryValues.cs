using System.Globalization;

namespace AgentMarket.Platform.Ui;

/// <summary>
/// Query-string values for pages. A typed <c>[SupplyParameterFromQuery]</c> (an <c>int?</c>, a <c>Guid?</c>) throws on a
/// value that does not parse, so <c>/?page=abc</c> would fail the page; pages take the string and read it here, where a
/// malformed value is simply absent.
/// </summary>
public static class QueryValues
{
    public static int? Number(string? value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;

    public static Guid? Id(string? value) => Guid.TryParse(value, out var id) ? id : null;

    /// <summary>A 1-based page number: the first page for a missing or malformed one, and no further than offsets can count.</summary>
    public static int Page(string? value) => Math.Clamp(Number(value) ?? 1, 1, MaxPage);

    const int MaxPage = 100_000;
}
