using System.Text;
using CsvHelper;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// A CSV file as one block per row of "header: value" lines, so each chunk carries the column names its values need.
/// Rows and record sizes are capped; past the cap the document is indexed in part and marked truncated.
/// </summary>
static class CsvText
{
    public const int MaxRows = 20_000;

    /// <summary>One record (a row, quoted line breaks included); a larger one is malformed or hostile.</summary>
    const int MaxRecordBytes = 1024 * 1024;

    public static ExtractedText Extract(TextReader source, int maxCharacters)
    {
        var text = new TextCollector(maxCharacters);
        var options = new CsvReaderOptions
        {
            HasHeader = true,
            Separator = null, // detected from the header line: comma, semicolon, tab…
            DetectSeparatorHint = true,
            MaxRecordSize = MaxRecordBytes,
            SkipEmptyLines = true,
            TrimWhitespace = true,
            IncludeValuesInExceptions = false, // exceptions are logged; document contents never are
        };
        try
        {
            using var reader = CsvReader.Create(source, options, leaveOpen: true);
            var rows = 0;
            while (reader.Read())
            {
                if (rows++ == MaxRows)
                {
                    return text.Result() with { Truncated = true };
                }
                if (!text.Add(Row(reader)))
                {
                    break;
                }
            }
        }
        catch (CsvFormatException)
        {
            throw new UnreadableDocumentException("The CSV file is malformed (an unterminated quote or a record larger than 1 MB).");
        }
        return text.Result();
    }

    static string Row(CsvReader reader)
    {
        var row = new StringBuilder();
        var headers = reader.Headers;
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var value = reader.GetString(i);
            if (string.IsNullOrWhiteSpace(value))
            {
                continue;
            }
            var header = i < headers.Count && !string.IsNullOrWhiteSpace(headers[i]) ? headers[i] : $"column {i + 1}";
            row.Append(row.Length > 0 ? "\n" : "").Append(header).Append(": ").Append(value);
        }
        return row.ToString();
    }
}
