using System.Text;
using Markdig;
using Markdig.Parsers.Inlines;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// Markdown as text: Markdig parses the blocks (headings, paragraphs, lists, quotes, code, tables) and renders HTML,
/// whose text <see cref="HtmlText"/> takes, so raw HTML blocks lose their scripts exactly as .html files do.
/// Two measured worst cases shape this: Markdig's link parser is quadratic on unclosed brackets (50,000 "[a](" took
/// 17 s), and its block parser slows with the cube of container nesting (2,000 ever-deeper list lines took 11 s).
/// So only the literal, line-break and entity inline parsers run (links and emphasis stay as their plain characters,
/// which a search or a model reads well), and container prefixes are capped before parsing.
/// </summary>
static class MarkdownText
{
    /// <summary>Leading indentation and quote/list markers kept per line: 30 levels of nesting, more than any document uses.</summary>
    const int MaxContainerPrefix = 64;

    static readonly MarkdownPipeline Pipeline = CreatePipeline();

    public static Task<ExtractedText> ExtractAsync(string markdown, int maxCharacters, CancellationToken cancellationToken)
    {
        string html;
        try
        {
            html = Markdown.ToHtml(CapContainerPrefixes(markdown), Pipeline);
        }
        catch (ArgumentException)
        {
            // Markdig's own nesting limit (128 levels), reached by one line of thousands of markers.
            throw new UnreadableDocumentException("The Markdown is nested too deeply to read.");
        }
        return HtmlText.ExtractAsync(html, maxCharacters, cancellationToken);
    }

    static MarkdownPipeline CreatePipeline()
    {
        var builder = new MarkdownPipelineBuilder();
        builder.InlineParsers.RemoveAll(parser => parser is not (LineBreakInlineParser or HtmlEntityParser));
        return builder.UsePipeTables().Build();
    }

    static string CapContainerPrefixes(string markdown)
    {
        var capped = new StringBuilder(markdown.Length);
        foreach (var line in markdown.Split('\n'))
        {
            var prefix = 0;
            while (prefix < line.Length && line[prefix] is ' ' or '\t' or '>' or '-' or '*' or '+')
            {
                prefix++;
            }
            capped.Append(line.AsSpan(0, Math.Min(prefix, MaxContainerPrefix))).Append(line.AsSpan(prefix)).Append('\n');
        }
        return capped.ToString();
    }
}
