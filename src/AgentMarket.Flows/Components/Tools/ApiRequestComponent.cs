using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Tools;

/// <summary>
/// API Request (format Appendix A): one HTTP request through the outbound guard. Query parameters, headers and a
/// JSON body come from the node's tables; the answer is Data with the source URL, the status code and the parsed
/// JSON (or text) result. Redirects are followed only when <c>follow_redirects</c> is on, and then re-checked.
/// </summary>
internal sealed class ApiRequestComponent : Component
{
    static readonly InputSpec Url = new("url_input", InputKind.Text, "", "Enter the URL for the request.");
    static readonly InputSpec Method = new("method", InputKind.Text, "GET");
    static readonly InputSpec Mode = new("mode", InputKind.Text, "URL");
    static readonly InputSpec QueryParameters = new("query_params", InputKind.Handle);
    static readonly InputSpec Body = new("body", InputKind.Handle);
    static readonly InputSpec Headers = new("headers", InputKind.Json);
    static readonly InputSpec Timeout = new("timeout", InputKind.Int, 30L);
    static readonly InputSpec FollowRedirects = new("follow_redirects", InputKind.Bool, false);
    static readonly InputSpec SaveToFile = new("save_to_file", InputKind.Bool, false);
    static readonly InputSpec IncludeMetadata = new("include_httpx_metadata", InputKind.Bool, false);
    static readonly OutputSpec Result = new("data", "Data");

    public ApiRequestComponent()
    {
        Spec = new ComponentSpec(
            "APIRequest",
            typeNames: ["APIRequest"],
            classNames: ["APIRequestComponent"],
            inputs: [Url, Method, Mode, QueryParameters, Body, Headers, Timeout, FollowRedirects, SaveToFile, IncludeMetadata],
            outputs: [Result],
            tools: [new ToolSpec("make_api_request", "Make an HTTP request to the given URL.", Result, [Url])]);
    }

    public override ComponentSpec Spec { get; }

    public override object? Prepare(NodeSetup node)
    {
        node.Require(Capabilities.OutboundHttp);
        if (node.ConstantText(Mode) == "cURL")
        {
            node.Report(ReportIssue.Error(IssueCodes.UnsupportedComponent, $"\"{node.NodeId}\": cURL mode is not supported; switch the node to URL mode.", node.NodeId, Mode.Name));
        }

        if (node.ConstantBool(SaveToFile))
        {
            node.Report(ReportIssue.Warning(IssueCodes.UnusedField, $"\"{node.NodeId}\": \"Save to File\" is ignored; responses are never written to disk.", node.NodeId, SaveToFile.Name));
        }

        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var url = node.Text(Url).Trim();
        if (url.Length == 0)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "The API Request has no URL.");
        }

        var uri = Absolute(url) ?? throw new FlowComponentException(RunErrorCodes.ComponentError, $"Invalid URL: {url}");

        // Called as a tool, the model picks the URL, but the headers, query parameters and body are the provider's,
        // often with a key in them: they go only to the origin of the URL the provider configured, never to one the
        // model names elsewhere (and never to a model's URL when the provider configured none).
        var configured = node.AsTool ? Absolute(node.ConfiguredText(Url)) : uri;
        var withConfiguration = configured is not null && OutboundGuard.SameOrigin(configured, uri);
        var query = withConfiguration ? Pairs(node.Value(QueryParameters)).ToList() : [];
        if (query.Count > 0)
        {
            var builder = new UriBuilder(uri);
            var existing = builder.Query.TrimStart('?');
            builder.Query = string.Join('&', new[] { existing }.Where(part => part.Length > 0)
                .Concat(query.Select(pair => $"{Uri.EscapeDataString(pair.Name)}={Uri.EscapeDataString(pair.Value)}")));
            uri = builder.Uri;
        }

        var method = new HttpMethod(node.Text(Method).ToUpperInvariant() is { Length: > 0 } verb ? verb : "GET");
        using var request = new HttpRequestMessage(method, uri);
        if (withConfiguration)
        {
            foreach (var (name, value) in UrlComponent.HeaderRows(node.Json(Headers)))
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            if (method != HttpMethod.Get && method != HttpMethod.Head && BodyJson(node.Value(Body)) is { } body)
            {
                request.Content = new StringContent(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            }
        }

        var response = await node.SendAsync(request, node.Bool(FollowRedirects), TimeSpan.FromSeconds(Math.Clamp(node.Int(Timeout), 1, 120)));
        var text = response.Text;
        JsonElement result;
        try
        {
            result = response.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true ? JsonValues.Parse(text) : JsonValues.String(text);
        }
        catch (JsonException)
        {
            result = JsonValues.String(text);
        }

        var fields = new List<KeyValuePair<string, object?>> { new("source", uri.AbsoluteUri), new("status_code", response.StatusCode) };
        if (node.Bool(IncludeMetadata))
        {
            fields.Add(new("response_headers", response.Headers));
        }

        fields.Add(new("result", result));
        node.Set(Result, Data.FromPairs(fields));
    }

    /// <summary>The URL as an absolute one (https:// assumed, as Langflow does), or null when it is empty or not a URL.</summary>
    static Uri? Absolute(string url)
    {
        url = url.Trim();
        if (url.Length > 0 && !url.Contains("://", StringComparison.Ordinal))
        {
            url = "https://" + url;
        }

        return url.Length > 0 && Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri : null;
    }

    static IEnumerable<(string Name, string Value)> Pairs(object? value) => value switch
    {
        Data data => UrlComponent.HeaderRows(data.Value),
        JsonElement element => UrlComponent.HeaderRows(element),
        string { Length: > 0 } text when TryParse(text) is { } parsed => UrlComponent.HeaderRows(parsed),
        _ => [],
    };

    static string? BodyJson(object? value)
    {
        switch (value)
        {
            case null:
                return null;
            case Data data:
                return data.Value.GetRawText();
            case JsonElement { ValueKind: JsonValueKind.Array } rows when rows.EnumerateArray().All(row => row.ValueKind == JsonValueKind.Object && row.TryGetProperty("key", out _)):
                return JsonValues.Object(rows.EnumerateArray()
                    .Where(row => row.GetProperty("key").ValueKind == JsonValueKind.String)
                    .Select(row => new KeyValuePair<string, JsonElement>(row.GetProperty("key").GetString()!, row.TryGetProperty("value", out var item) ? item : JsonValues.Null)))
                    .GetRawText();
            case JsonElement element:
                return element.GetRawText();
            case string { Length: > 0 } text:
                return TryParse(text)?.GetRawText() ?? JsonValues.String(text).GetRawText();
            case Message message:
                return BodyJson(message.Text);
            default:
                return null;
        }
    }

    static JsonElement? TryParse(string text)
    {
        try
        {
            return JsonValues.Parse(text);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
