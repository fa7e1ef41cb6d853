using System.Collections.Immutable;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Values;
using AngleSharp.Html.Parser;

namespace AgentMarket.Flows.Components.Tools;

/// <summary>
/// URL (format Appendix A): fetches pages through the outbound guard, following links up to <c>max_depth</c>
/// (1 = only the page; <c>prevent_outside</c> keeps the crawl under the start URL), and returns one row per page:
/// text (or HTML), url, title, description, content type and language. Every request, redirects included,
/// counts against the run's outbound limit; a refused address is reported as such, never fetched.
/// </summary>
internal sealed partial class UrlComponent : Component
{
    const int MaxPagesPerUrl = 25;

    static readonly InputSpec Urls = new("urls", InputKind.Files, null, "Enter one or more URLs to crawl recursively, by clicking the '+' button.");
    static readonly InputSpec MaxDepth = new("max_depth", InputKind.Int, 1L);
    static readonly InputSpec PreventOutside = new("prevent_outside", InputKind.Bool, true);
    static readonly InputSpec Format = new("format", InputKind.Text, "Text");
    static readonly InputSpec Timeout = new("timeout", InputKind.Int, 30L);
    static readonly InputSpec Headers = new("headers", InputKind.Json);
    static readonly InputSpec ContinueOnFailure = new("continue_on_failure", InputKind.Bool, true);
    static readonly InputSpec CheckResponseStatus = new("check_response_status", InputKind.Bool, false);
    static readonly OutputSpec PageResults = new("page_results", "DataFrame");
    static readonly OutputSpec RawResults = new("raw_results", "Message");

    public UrlComponent()
    {
        Spec = new ComponentSpec(
            "URL",
            typeNames: ["URLComponent", "URL"],
            classNames: ["URLComponent"],
            inputs: [Urls, MaxDepth, PreventOutside, Format, Timeout, Headers, ContinueOnFailure, CheckResponseStatus],
            outputs: [PageResults, RawResults],
            tools: [new ToolSpec("fetch_content", "Fetch content from one or more web pages, following links recursively.", PageResults, [Urls])]);
    }

    public override ComponentSpec Spec { get; }

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.OutboundHttp);
        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var urls = node.List(Urls).Select(TextConversion.AsText)
            .SelectMany(text => text.Split('\n'))
            .Select(text => text.Trim())
            .Where(text => text.Length > 0)
            .Select(Normalize)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (urls.Count == 0)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "No valid URLs provided.");
        }

        // The headers (often a key) go only to the origins of the URLs the provider configured: not to a URL the model
        // picks when the node is a tool, nor to another site a crawled page links to.
        var credentialed = (node.AsTool ? node.ConfiguredList(Urls).Select(TextConversion.AsText).SelectMany(text => text.Split('\n')) : urls)
            .Select(text => Uri.TryCreate(WithScheme(text.Trim()), UriKind.Absolute, out var uri) ? uri : null)
            .OfType<Uri>()
            .ToList();
        var pages = ImmutableArray.CreateBuilder<Data>();
        FlowComponentException? firstFailure = null;
        foreach (var url in urls)
        {
            try
            {
                await CrawlAsync(node, url, credentialed, pages);
            }
            catch (FlowComponentException exception) when (node.Bool(ContinueOnFailure))
            {
                firstFailure ??= exception;
            }
        }

        if (pages.Count == 0)
        {
            throw firstFailure ?? new FlowComponentException(RunErrorCodes.OutboundFailed, "No documents were successfully loaded from any URL.");
        }

        var frame = new DataFrame(pages.ToImmutable());
        if (node.IsRequested(PageResults))
        {
            node.Set(PageResults, frame);
        }

        if (node.IsRequested(RawResults))
        {
            node.Set(RawResults, node.NewMessage(string.Join("\n\n", frame.Rows.Select(row => row.Text ?? ""))));
        }
    }

    static async Task CrawlAsync(NodeExecution node, string start, List<Uri> credentialed, ImmutableArray<Data>.Builder pages)
    {
        var depth = Math.Clamp(node.Int(MaxDepth), 1, 5);
        var root = new Uri(start);
        var seen = new HashSet<string>(StringComparer.Ordinal) { start };
        var frontier = new List<string> { start };
        var fetched = 0;
        for (var level = 1; level <= depth && frontier.Count > 0; level++)
        {
            var next = new List<string>();
            foreach (var url in frontier)
            {
                if (++fetched > MaxPagesPerUrl)
                {
                    return;
                }

                var (page, links) = await FetchAsync(node, url, credentialed, wantLinks: level < depth);
                if (page is not null)
                {
                    pages.Add(page);
                }

                foreach (var link in links)
                {
                    if ((!node.Bool(PreventOutside) || Within(root, new Uri(link))) && seen.Add(link))
                    {
                        next.Add(link);
                    }
                }
            }

            frontier = next;
        }
    }

    /// <summary>
    /// Whether <paramref name="link"/> is under the crawl's start URL: the same origin (scheme, host, port) and a path at
    /// or below the start's, on a segment boundary. Comparing the text instead let <c>https://a.com</c> reach
    /// <c>https://a.com.evil.org/</c> and <c>https://a.com@evil.org/</c>, and <c>/docs</c> reach <c>/docs-private</c>.
    /// </summary>
    internal static bool Within(Uri start, Uri link)
    {
        if (!OutboundGuard.SameOrigin(start, link))
        {
            return false;
        }

        var (under, path) = (start.AbsolutePath, link.AbsolutePath);
        return path == under || path.StartsWith(under.EndsWith('/') ? under : under + "/", StringComparison.Ordinal);
    }

    static async Task<(Data? Page, List<string> Links)> FetchAsync(NodeExecution node, string url, List<Uri> credentialed, bool wantLinks)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (credentialed.Exists(origin => OutboundGuard.SameOrigin(origin, request.RequestUri!)))
        {
            foreach (var (name, value) in HeaderRows(node.Json(Headers)))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var response = await node.SendAsync(request, followRedirects: true, TimeSpan.FromSeconds(Math.Clamp(node.Int(Timeout), 1, 120)));
        if (node.Bool(CheckResponseStatus) && response.StatusCode >= 400)
        {
            throw new FlowComponentException(RunErrorCodes.OutboundFailed, $"{url} answered HTTP {response.StatusCode}.");
        }

        var body = response.Text;
        var isHtml = response.ContentType is null or "text/html" or "application/xhtml+xml";
        if (!isHtml)
        {
            return (Page(body, url, "", "", response.ContentType ?? "", ""), []);
        }

        // A large page takes a while to parse and walk: the run's cancellation (its end, its wall time) stops it (ADR-164).
        var cancellation = node.Cancellation;
        var document = await new HtmlParser().ParseDocumentAsync(body, cancellation);
        var links = new List<string>();
        if (wantLinks)
        {
            foreach (var anchor in document.QuerySelectorAll("a[href]"))
            {
                cancellation.ThrowIfCancellationRequested();
                if (Uri.TryCreate(response.FinalUri, anchor.GetAttribute("href"), out var link) && (link.Scheme == Uri.UriSchemeHttp || link.Scheme == Uri.UriSchemeHttps))
                {
                    links.Add(new UriBuilder(link) { Fragment = "" }.Uri.AbsoluteUri);
                }
            }
        }

        var (title, language) = (document.Title ?? "", document.DocumentElement.GetAttribute("lang") ?? "");
        var description = document.QuerySelector("meta[name=description]")?.GetAttribute("content") ?? "";
        // The same document gives the text: parsing the page a second time would double the work.
        var text = node.Text(Format) == "HTML" ? body : HtmlText.Extract(document, cancellation);
        return (Page(text, url, title, description, response.ContentType ?? "", language), links);
    }

    static Data Page(string text, string url, string title, string description, string contentType, string language) => Data.FromPairs(
    [
        new("text", TextConversion.CleanString(text)),
        new("url", url),
        new("title", title),
        new("description", description),
        new("content_type", contentType),
        new("language", language),
    ]);

    internal static IEnumerable<(string Name, string Value)> HeaderRows(JsonElement? table)
    {
        switch (table)
        {
            case { ValueKind: JsonValueKind.Array } rows:
                foreach (var row in rows.EnumerateArray())
                {
                    if (row.ValueKind == JsonValueKind.Object && row.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String &&
                        row.TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Null && key.GetString() is { Length: > 0 } name)
                    {
                        yield return (name, PythonText.Str(value));
                    }
                }

                break;
            case { ValueKind: JsonValueKind.Object } map:
                foreach (var property in map.EnumerateObject())
                {
                    if (property.Value.ValueKind != JsonValueKind.Null)
                    {
                        yield return (property.Name, PythonText.Str(property.Value));
                    }
                }

                break;
        }
    }

    /// <summary>Langflow's <c>ensure_url</c>: https:// is assumed, and the URL must look like one.</summary>
    static string Normalize(string url)
    {
        url = WithScheme(url);
        return UrlShape().IsMatch(url) && Uri.TryCreate(url, UriKind.Absolute, out _)
            ? url
            : throw new FlowComponentException(RunErrorCodes.ComponentError, $"Invalid URL: {url}");
    }

    static string WithScheme(string url) =>
        url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? url : "https://" + url;

    [GeneratedRegex(@"^(https?:\/\/)?(www\.)?([a-zA-Z0-9.-]+)(\.[a-zA-Z]{2,})?(:\d+)?(\/[^\s]*)?$", RegexOptions.IgnoreCase)]
    private static partial Regex UrlShape();
}
