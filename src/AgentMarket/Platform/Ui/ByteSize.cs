using System.Globalization;

namespace AgentMarket.Platform.Ui;

/// <summary>Sizes as pages and messages say them, in one way: limits, quotas, files.</summary>
public static class ByteSize
{
    /// <summary>"136 B", "64 KB", "2.5 MB", "1 GB": the largest unit that leaves at least one, to a tenth.</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.#} GB"),
    };
}
