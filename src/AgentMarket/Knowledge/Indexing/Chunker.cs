using System.Text;
using AgentMarket.Knowledge.Extraction;

namespace AgentMarket.Knowledge.Indexing;

/// <summary>A piece of a document as it will be indexed, with the section it belongs to.</summary>
public sealed record TextChunk(string Text, string? Title);

/// <summary>
/// Packs a document's blocks into chunks of about a thousand characters (never more than
/// <see cref="MaxCharacters"/>), keeping paragraphs whole when they fit. A heading starts a new chunk and becomes the
/// title of the chunks under it. A chunk that continues the previous one repeats its last ~150 characters, so a fact
/// cut at a boundary is still whole in one of the two.
/// </summary>
static class Chunker
{
    public const int TargetCharacters = 1_000;
    public const int MaxCharacters = 1_200;
    public const int OverlapCharacters = 150;
    const int MaxTitleCharacters = 300;
    const string Separator = "\n\n";

    /// <param name="blocks">The document in reading order.</param>
    /// <param name="documentTitle">The title of chunks before any heading (a question, a topic's title), or null.</param>
    public static List<TextChunk> Split(IEnumerable<TextBlock> blocks, string? documentTitle)
    {
        var chunks = new List<TextChunk>();
        var current = new StringBuilder();
        var carried = 0;
        var hasBody = false;
        var title = Shorten(documentTitle);

        void Close(bool continues)
        {
            if (current.Length > carried)
            {
                chunks.Add(new TextChunk(current.ToString(), title));
            }
            var overlap = continues ? Tail(current) : "";
            current.Clear().Append(overlap);
            carried = overlap.Length;
            hasBody = false;
        }

        void Append(string text) => current.Append(current.Length > 0 ? Separator : "").Append(text);

        foreach (var block in blocks)
        {
            if (block.IsHeading)
            {
                // Consecutive headings (a chapter, then its first section) stay together above their text.
                if (hasBody)
                {
                    Close(continues: false);
                }
                else if (current.Length == carried)
                {
                    current.Clear(); // the overlap of the previous section does not belong to this one
                    carried = 0;
                }
                title = Shorten(block.Text);
                Append(title!);
                continue;
            }
            // A piece must fit in a chunk next to the carried overlap.
            foreach (var piece in Pieces(block.Text, MaxCharacters - OverlapCharacters - Separator.Length))
            {
                if (current.Length + Separator.Length + piece.Length > MaxCharacters)
                {
                    Close(continues: true);
                }
                Append(piece);
                hasBody = true;
                if (current.Length >= TargetCharacters)
                {
                    Close(continues: true);
                }
            }
        }
        Close(continues: false);
        return chunks;
    }

    /// <summary>The text in pieces of at most <paramref name="max"/> characters, cut after a sentence, else at a space.</summary>
    static IEnumerable<string> Pieces(string text, int max)
    {
        var start = 0;
        while (text.Length - start > max)
        {
            var end = CutPoint(text, start, max);
            yield return text[start..end].TrimEnd();
            start = end;
            while (start < text.Length && char.IsWhiteSpace(text[start]))
            {
                start++;
            }
        }
        if (start < text.Length)
        {
            yield return text[start..];
        }
    }

    static int CutPoint(string text, int start, int max)
    {
        var limit = start + max;
        var earliest = start + (max / 2);
        for (var i = limit - 1; i > earliest; i--)
        {
            if (text[i] is '.' or '!' or '?' or ';' or '\n' && char.IsWhiteSpace(text[i + 1]))
            {
                return i + 1;
            }
        }
        for (var i = limit - 1; i > earliest; i--)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                return i;
            }
        }
        // One unbroken run of characters: cut it, but never between the halves of a surrogate pair.
        return char.IsLowSurrogate(text[limit]) ? limit - 1 : limit;
    }

    /// <summary>The last ~<see cref="OverlapCharacters"/> of a chunk, from a word boundary (empty when there is none).</summary>
    static string Tail(StringBuilder chunk)
    {
        if (chunk.Length <= OverlapCharacters)
        {
            return "";
        }
        for (var i = chunk.Length - OverlapCharacters; i < chunk.Length; i++)
        {
            if (char.IsWhiteSpace(chunk[i]))
            {
                return chunk.ToString(i + 1, chunk.Length - i - 1);
            }
        }
        return "";
    }

    static string? Shorten(string? title) =>
        title is null ? null : title.Length <= MaxTitleCharacters ? title : title[..MaxTitleCharacters].TrimEnd() + "…";
}
