using System.Text;
using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace AgentMarket.Knowledge.Extraction;

/// <summary>
/// The visible text of an HTML page as blocks: paragraphs, list items, table rows and headings. Scripts, styles,
/// templates, embedded objects and hidden elements are dropped whole, so their code never reaches a chunk or a model.
/// The walk uses its own stack, so a hostile page nested a hundred thousand levels deep cannot overflow the thread's;
/// parsing such a page takes the parser time quadratic in the depth, so it runs under a time limit.
/// </summary>
static class HtmlText
{
    static readonly HashSet<string> Dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "canvas", "select", "button", "textarea",
    };

    static readonly HashSet<string> Blocks = new(StringComparer.OrdinalIgnoreCase)
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote", "pre", "ul", "ol", "li", "dl", "dt",
        "dd", "table", "thead", "tbody", "tfoot", "tr", "figure", "figcaption", "form", "fieldset", "address", "details", "summary",
        "hr", "br", "body", "h1", "h2", "h3", "h4", "h5", "h6",
    };

    static readonly HashSet<string> Headings = new(StringComparer.OrdinalIgnoreCase) { "h1", "h2", "h3", "h4", "h5", "h6" };

    /// <summary>Long enough for any real page up to the upload cap (tens of MB parse in seconds).</summary>
    static readonly TimeSpan ParseTimeLimit = TimeSpan.FromSeconds(10);

    public static async Task<ExtractedText> ExtractAsync(string html, int maxCharacters, CancellationToken cancellationToken)
    {
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(ParseTimeLimit);
        IHtmlDocument document;
        try
        {
            document = await new HtmlParser().ParseDocumentAsync(html, budget.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new UnreadableDocumentException("The HTML is too complex to read (markup nested thousands of levels deep?).");
        }
        var text = new TextCollector(maxCharacters);
        var paragraph = new StringBuilder();
        var heading = false;

        // Pending work: a node to visit, or (node null) the end of a block element, which ends its paragraph.
        var stack = new Stack<(INode? Node, bool IsHeading)>();
        stack.Push((document.Body ?? (INode)document.DocumentElement, false));
        while (stack.Count > 0 && !text.IsFull)
        {
            var (node, endsHeading) = stack.Pop();
            if (node is null)
            {
                Flush(text, paragraph, endsHeading);
                heading = false;
                continue;
            }
            switch (node)
            {
                case IText textNode:
                    paragraph.Append(textNode.Data);
                    break;
                case IElement element when Dropped.Contains(element.LocalName) || element.HasAttribute("hidden") || element.GetAttribute("aria-hidden") == "true":
                    break;
                case IElement element:
                    var isBlock = Blocks.Contains(element.LocalName);
                    if (isBlock)
                    {
                        Flush(text, paragraph, heading);
                        heading = Headings.Contains(element.LocalName);
                        stack.Push((null, heading));
                    }
                    else if (element.LocalName is "td" or "th" && paragraph.Length > 0)
                    {
                        paragraph.Append(" | ");
                    }
                    for (var child = element.LastChild; child is not null; child = child.PreviousSibling)
                    {
                        stack.Push((child, false));
                    }
                    break;
            }
        }
        Flush(text, paragraph, heading);
        return text.Result();
    }

    static void Flush(TextCollector text, StringBuilder paragraph, bool isHeading)
    {
        if (paragraph.Length > 0)
        {
            // Line breaks inside an HTML paragraph are layout, not structure.
            text.Add(paragraph.Replace('\n', ' ').ToString(), isHeading);
            paragraph.Clear();
        }
    }
}
