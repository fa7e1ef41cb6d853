namespace AgentMarket.Platform.Api;

/// <summary>Text fields of the CSV exports (credits history, usage, earnings).</summary>
public static class CsvText
{
    /// <summary>Quotes a text field, and defuses values a spreadsheet would run as a formula.</summary>
    public static string Field(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
    }
}
