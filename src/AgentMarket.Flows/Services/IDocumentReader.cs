using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace AgentMarket.Flows.Services;

/// <summary>
/// Reads the text of a document named by a File node's path (format §4.7). The host maps paths such as
/// <c>&lt;flow_id&gt;/&lt;file&gt;</c> onto its own storage and extracts text (PDF, DOCX…).
/// Throw <see cref="DocumentReadException"/> for a document that cannot be read.
/// </summary>
public interface IDocumentReader
{
    /// <summary>The text of the document at <paramref name="path"/>.</summary>
    ValueTask<string> ReadTextAsync(string path, CancellationToken cancellationToken);

    /// <summary>
    /// The documents a File node reads when it is given no path. None by default, and the node then fails as in Langflow;
    /// a host with documents of its own (the marketplace: the agent's knowledge base) names them, or throws
    /// <see cref="DocumentReadException"/> to tell the caller how to add one.
    /// </summary>
    ValueTask<IReadOnlyList<string>> DefaultPathsAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<string>>([]);
}

/// <summary>A document could not be read; the message is shown to the caller.</summary>
public sealed class DocumentReadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DocumentReadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    public DocumentReadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DocumentReadException()
    {
    }
}

/// <summary>
/// Reads plain-text documents (txt, md, csv, json, html) from under one root directory, for the CLI and tests.
/// Paths that leave the root (<c>..</c>, absolute paths elsewhere, links) are refused: a flow or a tweak must not
/// read arbitrary files of the machine.
/// </summary>
public sealed class PlainTextDocumentReader(string rootDirectory, long maxBytes = 10 * 1024 * 1024) : IDocumentReader
{
    static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase) { ".txt", ".md", ".markdown", ".csv", ".json", ".log", ".yaml", ".yml", ".xml" };
    static readonly HashSet<string> HtmlExtensions = new(StringComparer.OrdinalIgnoreCase) { ".html", ".htm" };

    readonly string _root = Path.GetFullPath(rootDirectory);

    /// <inheritdoc />
    public async ValueTask<string> ReadTextAsync(string path, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(Path.Combine(_root, path));
        var relative = Path.GetRelativePath(_root, fullPath);
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new DocumentReadException($"The document path \"{path}\" is outside the document folder.");
        }

        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            throw new DocumentReadException($"The document \"{path}\" does not exist.");
        }

        if (info.LinkTarget is not null)
        {
            throw new DocumentReadException($"The document \"{path}\" is a link; links are not followed.");
        }

        if (info.Length > maxBytes)
        {
            throw new DocumentReadException($"The document \"{path}\" is larger than {maxBytes / (1024 * 1024)} MB.");
        }

        var extension = info.Extension;
        if (!TextExtensions.Contains(extension) && !HtmlExtensions.Contains(extension))
        {
            throw new DocumentReadException($"\"{path}\": {extension} documents cannot be read here (text, Markdown, CSV, JSON and HTML can).");
        }

        var text = await File.ReadAllTextAsync(fullPath, cancellationToken);
        return HtmlExtensions.Contains(extension) ? await HtmlText.ExtractAsync(text, cancellationToken) : text;
    }
}

/// <summary>
/// Visible text of an HTML page: scripts, styles and templates dropped. Parsing a large page takes a while, so it
/// stops when the run is canceled or out of time instead of keeping a core busy (ADR-164).
/// </summary>
internal static class HtmlText
{
    public static async Task<string> ExtractAsync(string html, CancellationToken cancellationToken) =>
        Extract(await new HtmlParser().ParseDocumentAsync(html, cancellationToken), cancellationToken);

    /// <summary>The text of a parsed page; its scripts, styles and templates are removed from it.</summary>
    public static string Extract(IHtmlDocument document, CancellationToken cancellationToken)
    {
        foreach (var element in document.QuerySelectorAll("script, style, noscript, template").ToList())
        {
            cancellationToken.ThrowIfCancellationRequested();
            element.Remove();
        }

        return document.Body?.TextContent ?? document.DocumentElement.TextContent;
    }
}
