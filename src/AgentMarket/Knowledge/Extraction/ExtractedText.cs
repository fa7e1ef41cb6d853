using System.Text;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>A paragraph, table row or heading of a document, in reading order.</summary>
public sealed record TextBlock(string Text, bool IsHeading = false);

/// <summary>The text of a document as blocks, and whether a cap cut it short.</summary>
public sealed record ExtractedText(IReadOnlyList<TextBlock> Blocks, bool Truncated)
{
    public int Length => Blocks.Sum(b => b.Text.Length);
}

/// <summary>
/// A document that cannot be turned into text (damaged, encrypted, hostile, empty). Processing fails for good with
/// <see cref="Exception.Message"/> as the reason the owner sees, so the message never quotes the document.
/// </summary>
public sealed class UnreadableDocumentException(string reason) : Exception(reason);

/// <summary>
/// Collects blocks up to a character budget shared by every extractor, so no format can produce unbounded text
/// (a 20 MB file can still expand: a CSV into "header: value" lines, a DOCX out of its zip).
/// </summary>
sealed class TextCollector(int maxCharacters)
{
    readonly List<TextBlock> _blocks = [];
    int _characters;

    public bool IsFull { get; private set; }

    /// <summary>Characters the collector still takes: what an extractor building a block need not hold beyond.</summary>
    public int Remaining => maxCharacters - _characters;

    /// <summary>Ends the text here, as cut short: for an extractor that had to drop part of a block.</summary>
    public void Cut() => IsFull = true;

    /// <summary>Adds a block with its whitespace normalized; false once the budget is spent (the rest is dropped).</summary>
    public bool Add(string text, bool isHeading = false)
    {
        if (IsFull)
        {
            return false;
        }
        var normalized = Normalize(text);
        if (normalized.Length == 0)
        {
            return true;
        }
        if (_characters + normalized.Length > maxCharacters)
        {
            normalized = normalized[..(maxCharacters - _characters)];
            IsFull = true;
        }
        _characters += normalized.Length;
        if (normalized.Length > 0)
        {
            _blocks.Add(new TextBlock(normalized, isHeading));
        }
        return !IsFull;
    }

    public ExtractedText Result() => new(_blocks, IsFull);

    /// <summary>Adds each blank-line-separated paragraph of plain text.</summary>
    public void AddParagraphs(string text)
    {
        var paragraph = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (!Add(paragraph.ToString()))
                {
                    return;
                }
                paragraph.Clear();
                continue;
            }
            paragraph.Append(paragraph.Length > 0 ? "\n" : "").Append(line);
        }
        Add(paragraph.ToString());
    }

    /// <summary>
    /// Trims lines, collapses runs of spaces and tabs (layout whitespace costs model tokens and helps no search) and
    /// drops control characters other than line breaks.
    /// </summary>
    static string Normalize(string text)
    {
        var builder = new StringBuilder(text.Length);
        var pendingSpace = false;
        var pendingNewline = false;
        foreach (var c in text)
        {
            if (c == '\n')
            {
                pendingNewline = builder.Length > 0;
                pendingSpace = false;
            }
            else if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                pendingSpace = builder.Length > 0;
            }
            else
            {
                if (pendingNewline)
                {
                    builder.Append('\n');
                }
                else if (pendingSpace)
                {
                    builder.Append(' ');
                }
                pendingNewline = pendingSpace = false;
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
