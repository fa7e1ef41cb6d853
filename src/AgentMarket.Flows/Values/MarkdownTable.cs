using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>
/// A DataFrame as pandas' <c>to_markdown(index=False)</c> prints it (tabulate's "pipe" format), checked against
/// pandas 1.5 / tabulate 0.8.9: columns as wide as their widest cell and at least the header plus two; numbers
/// (including numeric strings) formatted with <c>"g"</c> and aligned on the decimal point; a missing cell is
/// <c>nan</c>; text aligns left. Langflow shows every table this way (ChatOutput, Type Convert, prompts).
/// </summary>
internal static class MarkdownTable
{
    enum CellKind
    {
        Empty,
        Int,
        Float,
        Text,
    }

    public static string Render(DataFrame frame, bool clean)
    {
        var columns = frame.Columns;
        if (columns.IsEmpty)
        {
            // An empty table (no messages yet, no rows) renders as nothing rather than a header without columns.
            return "";
        }

        var rows = frame.Rows;
        if (clean)
        {
            // pandas dropna(how="all"): a row whose every cell is missing disappears.
            rows = rows.RemoveAll(row => columns.All(column => !row.TryGet(column, out var cell) || cell.ValueKind == JsonValueKind.Null));
        }

        var output = new StringBuilder();
        var rendered = new string[columns.Length][];
        var numeric = new bool[columns.Length];
        var widths = new int[columns.Length];
        for (var column = 0; column < columns.Length; column++)
        {
            (rendered[column], numeric[column]) = RenderColumn(rows, columns[column], clean);
            widths[column] = Math.Max(columns[column].Length + 2, rendered[column].DefaultIfEmpty("").Max(cell => cell.Length));
        }

        AppendRow(output, columns.Length, column => columns[column], widths, numeric);
        output.Append('\n').Append('|');
        for (var column = 0; column < columns.Length; column++)
        {
            output.Append(numeric[column] ? new string('-', widths[column] + 1) + ":" : ":" + new string('-', widths[column] + 1)).Append('|');
        }

        for (var row = 0; row < rows.Length; row++)
        {
            output.Append('\n');
            var current = row;
            AppendRow(output, columns.Length, column => rendered[column][current], widths, numeric);
        }

        return output.ToString();
    }

    static (string[] Cells, bool Numeric) RenderColumn(System.Collections.Immutable.ImmutableArray<Data> rows, string column, bool clean)
    {
        var cells = new (CellKind Kind, string Text, double Number)[rows.Length];
        for (var row = 0; row < rows.Length; row++)
        {
            cells[row] = Classify(rows[row], column, clean);
        }

        var present = cells.Where(cell => cell.Kind != CellKind.Empty).ToList();
        var isInt = present.Count > 0 && present.All(cell => cell.Kind == CellKind.Int);
        var isFloat = !isInt && present.Count > 0 && present.All(cell => cell.Kind is CellKind.Int or CellKind.Float);
        if (!isInt && !isFloat)
        {
            return ([.. cells.Select(cell => cell.Text)], false);
        }

        // pandas turns a numeric column's missing cells into NaN, which prints as "nan".
        var texts = cells.Select(cell => cell.Kind switch
        {
            CellKind.Empty => "nan",
            _ when isInt => cell.Text,
            _ => FormatG(cell.Number),
        }).ToArray();
        var decimals = texts.Select(AfterPoint).ToArray();
        var maximum = decimals.Max();
        return ([.. texts.Select((text, index) => text + new string(' ', maximum - decimals[index]))], true);
    }

    static (CellKind Kind, string Text, double Number) Classify(Data row, string column, bool clean)
    {
        if (!row.TryGet(column, out var value))
        {
            return (CellKind.Empty, "nan", double.NaN);
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return (CellKind.Empty, "", double.NaN);
            case JsonValueKind.Number:
                var raw = value.GetRawText();
                return raw.AsSpan().IndexOfAny(".eE") < 0 ? (CellKind.Int, raw, value.GetDouble()) : (CellKind.Float, raw, value.GetDouble());
            case JsonValueKind.True or JsonValueKind.False:
                return (CellKind.Text, value.ValueKind == JsonValueKind.True ? "True" : "False", 0);
        }

        var text = PythonText.Str(value);
        if (value.ValueKind == JsonValueKind.String && clean)
        {
            // pandas' replace(regex=True) matches each cell whole: a blank cell empties, newline runs collapse.
            text = string.IsNullOrWhiteSpace(text) ? "" : TextConversion.NewlineRuns().Replace(text, "\n");
        }

        // Pipes would end the cell and newlines the row: Langflow escapes the one and turns the other into <br/>.
        // tabulate strips the whitespace around a cell.
        text = text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "<br/>", StringComparison.Ordinal).Trim();

        // tabulate reads numeric-looking text as numbers, as pandas' output shows.
        var trimmed = text;
        if (long.TryParse(trimmed, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return (CellKind.Int, whole.ToString(CultureInfo.InvariantCulture), whole);
        }

        if (trimmed.Length > 0 && double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return (CellKind.Float, trimmed, number);
        }

        return (CellKind.Text, text, 0);
    }

    /// <summary>Python's <c>format(x, "g")</c>: six significant digits, exponent form below 1e-4 or from 1e6.</summary>
    static string FormatG(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        var text = value.ToString("G6", CultureInfo.InvariantCulture);
        var exponent = text.IndexOf('E', StringComparison.Ordinal);
        return exponent < 0 ? text : text[..exponent] + "e" + text[(exponent + 1)..];
    }

    /// <summary>tabulate's <c>_afterpoint</c>: characters after the decimal point (or the exponent), -1 for integers and text.</summary>
    static int AfterPoint(string text)
    {
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            return -1;
        }

        var position = text.LastIndexOf('.');
        if (position < 0)
        {
            position = text.LastIndexOf('e');
        }

        return position >= 0 ? text.Length - position - 1 : -1;
    }

    static void AppendRow(StringBuilder output, int count, Func<int, string> cell, int[] widths, bool[] numeric)
    {
        output.Append('|');
        for (var column = 0; column < count; column++)
        {
            var text = cell(column);
            output.Append(' ').Append(numeric[column] ? text.PadLeft(widths[column]) : text.PadRight(widths[column])).Append(" |");
        }
    }
}
