using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>
/// A DataFrame as the Markdown table pandas' <c>to_markdown(index=False)</c> prints (tabulate's "pipe" format):
/// each column is as wide as its widest cell and at least its header plus two; numeric columns align right.
/// </summary>
internal static class MarkdownTable
{
    public static string Render(DataFrame frame, bool clean)
    {
        var rows = frame.Rows;
        if (clean)
        {
            // pandas dropna(how="all"): a row whose every cell is missing disappears.
            rows = rows.RemoveAll(row => frame.Columns.All(column => !row.TryGet(column, out var cell) || cell.ValueKind == JsonValueKind.Null));
        }

        var columns = frame.Columns;
        var cells = new string[rows.Length, columns.Length];
        var numeric = new bool[columns.Length];
        var widths = new int[columns.Length];
        for (var column = 0; column < columns.Length; column++)
        {
            numeric[column] = true;
            var anyValue = false;
            for (var row = 0; row < rows.Length; row++)
            {
                var present = rows[row].TryGet(columns[column], out var value);
                if (!present || value.ValueKind == JsonValueKind.Null)
                {
                    cells[row, column] = "";
                    continue;
                }

                anyValue = true;
                numeric[column] &= value.ValueKind == JsonValueKind.Number;
                cells[row, column] = Cell(value, clean);
            }

            numeric[column] &= anyValue;
            widths[column] = columns[column].Length + 2;
            for (var row = 0; row < rows.Length; row++)
            {
                widths[column] = Math.Max(widths[column], cells[row, column].Length);
            }
        }

        var output = new StringBuilder();
        AppendRow(output, columns.Length, column => columns[column], widths, numeric);
        output.Append('\n').Append('|');
        for (var column = 0; column < columns.Length; column++)
        {
            output.Append(numeric[column] ? new string('-', widths[column] + 1) + ":" : ":" + new string('-', widths[column] + 1));
            output.Append('|');
        }

        for (var row = 0; row < rows.Length; row++)
        {
            output.Append('\n');
            var current = row;
            AppendRow(output, columns.Length, column => cells[current, column], widths, numeric);
        }

        return output.ToString();
    }

    static void AppendRow(StringBuilder output, int count, Func<int, string> cell, int[] widths, bool[] numeric)
    {
        output.Append('|');
        for (var column = 0; column < count; column++)
        {
            var text = cell(column);
            output.Append(' ');
            output.Append(numeric[column] ? text.PadLeft(widths[column]) : text.PadRight(widths[column]));
            output.Append(" |");
        }
    }

    static string Cell(JsonElement value, bool clean)
    {
        var text = value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && value.GetRawText().AsSpan().IndexOfAny(".eE") >= 0
            ? number.ToString("G6", CultureInfo.InvariantCulture)
            : PythonText.Str(value);
        if (clean)
        {
            text = TextConversion.BlankLines().Replace(text, "");
            text = TextConversion.NewlineRuns().Replace(text, "\n");
        }

        // Pipes would end the cell and newlines the row; Langflow escapes the one and turns the other into <br/>.
        return text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", "<br/>", StringComparison.Ordinal);
    }
}
