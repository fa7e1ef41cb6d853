using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace AgentMarket.Catalog.Markdown;

/// <summary>
/// Renders sellers' Markdown for buyers' eyes. Raw HTML is escaped (never passed through), and every link and image
/// must be http(s), mailto or a path on this site; anything else (<c>javascript:</c>, <c>data:</c>, <c>vbscript:</c>...)
/// loses its URL. Images show only from paths on this site (uploaded catalog images); a remote image becomes a link to
/// it. Extensions that let Markdown set HTML attributes are not enabled.
/// </summary>
public static class SafeMarkdown
{
    static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .Build();

    public static string ToHtml(string? markdown)
    {
        var document = Markdig.Markdown.Parse(markdown ?? "", Pipeline);
        foreach (var link in document.Descendants<LinkInline>())
        {
            if (!IsSafeUrl(link.Url))
            {
                link.Url = "";
            }
            if (link.IsImage && !IsSitePath(link.Url ?? ""))
            {
                // Shown, a remote image loads from the seller's server whenever a buyer opens the page: a tracking pixel
                // (who looked, when, from where) or mixed content. As a link it loads only if the reader follows it.
                link.IsImage = false;
                if (link.FirstChild is null && !string.IsNullOrEmpty(link.Url))
                {
                    link.AppendChild(new LiteralInline(link.Url));
                }
            }
            if (!link.IsImage)
            {
                // Seller content: no referrer and no ranking credit for the link's target.
                link.GetAttributes().AddPropertyIfNotExist("rel", "nofollow ugc noopener noreferrer");
            }
        }
        foreach (var link in document.Descendants<AutolinkInline>())
        {
            if (!IsSafeUrl(link.Url))
            {
                link.Url = "";
            }
        }
        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        Pipeline.Setup(renderer);
        renderer.Render(document);
        return writer.ToString();
    }

    /// <summary>Plain text of the Markdown (for search snippets and meta descriptions).</summary>
    public static string ToPlainText(string? markdown) => Markdig.Markdown.ToPlainText(markdown ?? "", Pipeline).Trim();

    static bool IsSafeUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return true;
        }
        var trimmed = url.Trim();
        if (trimmed.StartsWith('#') || IsSitePath(trimmed))
        {
            return true;
        }
        // Browsers ignore tabs and newlines inside a scheme ("java\tscript:"), so judge the URL after Uri has parsed it.
        return Uri.TryCreate(trimmed, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" or "mailto";
    }

    /// <summary>A path on this site: one leading slash. Browsers read "//host" and "/\host" as another site's address.</summary>
    static bool IsSitePath(string url)
    {
        var trimmed = url.Trim();
        return trimmed.StartsWith('/') && (trimmed.Length == 1 || trimmed[1] is not ('/' or '\\'));
    }
}
