using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Loading;

/// <summary>The outcome of reading an export: a definition when the JSON is a flow, and what was wrong with it.</summary>
internal sealed record LoadResult(FlowDefinition? Definition, ImmutableArray<ReportIssue> Issues, bool IsLegacy)
{
    public static LoadResult Failed(ReportIssue issue) => new(null, [issue], IsLegacy: false);
}

/// <summary>
/// Reads a Langflow export (the whole export or a bare <c>{nodes, edges}</c>) into a <see cref="FlowDefinition"/>.
/// Never throws: anything it cannot read becomes an issue in the result (format §1, §9).
/// </summary>
internal static partial class FlowLoader
{
    /// <summary>Exports in the starters are under 400 KB; anything this large is not a hand-built flow.</summary>
    public const int MaxFlowBytes = 16 * 1024 * 1024;

    /// <summary>Real exports nest about a dozen levels; the limit bounds the parser's work on hostile input.</summary>
    public const int MaxDepth = 128;

    public static LoadResult Load(ReadOnlyMemory<byte> utf8Json)
    {
        if (utf8Json.Length > MaxFlowBytes)
        {
            return LoadResult.Failed(ReportIssue.Error(
                IssueCodes.FlowTooLarge,
                $"The file is {utf8Json.Length / (1024 * 1024)} MB; flows larger than {MaxFlowBytes / (1024 * 1024)} MB are not accepted."));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (JsonException exception)
        {
            var where = exception.LineNumber is { } line ? $" (line {line + 1}, position {exception.BytePositionInLine + 1})" : "";
            return LoadResult.Failed(ReportIssue.Error(
                IssueCodes.InvalidJson,
                $"The file is not valid JSON{where}. Export the flow again from Langflow (Export → Download)."));
        }

        using (document)
        {
            return Read(document.RootElement);
        }
    }

    static LoadResult Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return LoadResult.Failed(ReportIssue.Error(IssueCodes.NotAFlow, "The file is JSON but not a Langflow flow: expected an object with \"data\": {\"nodes\", \"edges\"}."));
        }

        var graph = root;
        if (root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object && data.TryGetProperty("nodes", out _))
        {
            graph = data;
        }

        var issues = ImmutableArray.CreateBuilder<ReportIssue>();
        if (!graph.TryGetProperty("nodes", out var nodesElement) || nodesElement.ValueKind != JsonValueKind.Array)
        {
            return LoadResult.Failed(ReportIssue.Error(IssueCodes.NotAFlow, "The file has no node list (\"data.nodes\"): it is not a Langflow flow export."));
        }

        if (!graph.TryGetProperty("edges", out var edgesElement) || edgesElement.ValueKind != JsonValueKind.Array)
        {
            issues.Add(ReportIssue.Error(IssueCodes.NotAFlow, "The flow has no edge list (\"data.edges\"); Langflow requires one, even if empty."));
            edgesElement = default;
        }

        var lastTested = String(root, "last_tested_version");
        var nodes = ImmutableArray.CreateBuilder<NodeDefinition>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var notes = 0;
        var position = 0;
        foreach (var nodeElement in nodesElement.EnumerateArray())
        {
            position++;
            if (nodeElement.ValueKind != JsonValueKind.Object)
            {
                issues.Add(ReportIssue.Error(IssueCodes.InvalidNode, $"Node #{position} is not an object."));
                continue;
            }

            if (String(nodeElement, "type") == "noteNode")
            {
                notes++;
                continue;
            }

            var node = ReadNode(nodeElement, position, issues);
            if (node is null)
            {
                continue;
            }

            if (!ids.Add(node.Id))
            {
                issues.Add(ReportIssue.Error(IssueCodes.DuplicateNodeId, $"Two nodes have the id \"{node.Id}\"; node ids must be unique.", node.Id));
                continue;
            }

            nodes.Add(node);
        }

        var edges = ImmutableArray.CreateBuilder<EdgeDefinition>();
        if (edgesElement.ValueKind == JsonValueKind.Array)
        {
            position = 0;
            foreach (var edgeElement in edgesElement.EnumerateArray())
            {
                position++;
                var edge = ReadEdge(edgeElement);
                if (edge is null)
                {
                    issues.Add(ReportIssue.Error(IssueCodes.InvalidEdge, $"Edge #{position} has no source or target node."));
                    continue;
                }

                edges.Add(edge);
            }
        }

        var definition = new FlowDefinition(
            String(root, "id"),
            String(root, "name"),
            String(root, "description"),
            lastTested,
            root.TryGetProperty("is_component", out var isComponent) && isComponent.ValueKind == JsonValueKind.True,
            nodes.ToImmutable(),
            edges.ToImmutable(),
            notes);
        return new LoadResult(definition, issues.ToImmutable(), IsLegacy(definition));
    }

    /// <summary>Pre-1.0 exports: pipe-style edge handles, a version below 1.0, or nodes without output lists.</summary>
    static bool IsLegacy(FlowDefinition flow)
    {
        if (flow.Edges.Any(edge => edge.Format == HandleFormat.LegacyPipe))
        {
            return true;
        }

        if (flow.LastTestedVersion is { } version && LeadingMajor().Match(version) is { Success: true } match &&
            int.TryParse(match.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var major) && major < 1)
        {
            return true;
        }

        return flow.Nodes.Length > 0 && flow.Nodes.All(node => node.LegacyShape);
    }

    static NodeDefinition? ReadNode(JsonElement element, int position, ImmutableArray<ReportIssue>.Builder issues)
    {
        var id = String(element, "id");
        if (string.IsNullOrEmpty(id))
        {
            issues.Add(ReportIssue.Error(IssueCodes.InvalidNode, $"Node #{position} has no id."));
            return null;
        }

        if (!element.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object ||
            !data.TryGetProperty("node", out var node) || node.ValueKind != JsonValueKind.Object)
        {
            issues.Add(ReportIssue.Error(IssueCodes.InvalidNode, $"Node \"{id}\" has no component definition (\"data.node\").", id));
            return null;
        }

        var type = String(data, "type") ?? id.Split('-', 2)[0];
        var fields = ImmutableArray.CreateBuilder<FieldDefinition>();
        string? codeClass = null;
        var hasCode = false;
        if (node.TryGetProperty("template", out var template) && template.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in template.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (property.Name == "code")
                {
                    var code = String(property.Value, "value");
                    hasCode = !string.IsNullOrWhiteSpace(code);
                    codeClass = code is null ? null : ClassName(code);
                    continue;
                }

                fields.Add(ReadField(property.Name, property.Value));
            }
        }

        var outputs = ImmutableArray.CreateBuilder<OutputDefinition>();
        var hasOutputs = node.TryGetProperty("outputs", out var outputsElement) && outputsElement.ValueKind == JsonValueKind.Array;
        if (hasOutputs)
        {
            foreach (var output in outputsElement.EnumerateArray())
            {
                if (output.ValueKind == JsonValueKind.Object && String(output, "name") is { Length: > 0 } name)
                {
                    outputs.Add(new OutputDefinition(name, Strings(output, "types"), String(output, "method"), Bool(output, "allows_loop")));
                }
            }
        }

        var promptVariables = ImmutableArray<string>.Empty;
        if (node.TryGetProperty("custom_fields", out var customFields) && customFields.ValueKind == JsonValueKind.Object)
        {
            promptVariables = Strings(customFields, "template");
        }

        string? moduleClass = null;
        if (node.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object &&
            String(metadata, "module") is { Length: > 0 } module)
        {
            moduleClass = module[(module.LastIndexOf('.') + 1)..];
        }

        var fieldArray = fields.ToImmutable();
        return new NodeDefinition(
            id,
            type,
            String(node, "display_name"),
            moduleClass,
            codeClass,
            hasCode,
            Bool(node, "edited"),
            Bool(node, "frozen"),
            Bool(node, "tool_mode"),
            fieldArray,
            fieldArray.DistinctBy(field => field.Name, StringComparer.Ordinal).ToFrozenDictionary(field => field.Name, StringComparer.Ordinal),
            outputs.ToImmutable(),
            promptVariables,
            node.TryGetProperty("flow", out var flow) && flow.ValueKind == JsonValueKind.Object,
            LegacyShape: !hasOutputs);
    }

    static FieldDefinition ReadField(string name, JsonElement field)
    {
        field.TryGetProperty("value", out var value);
        JsonElement? filePath = field.TryGetProperty("file_path", out var path) ? path.Clone() : null;
        var inputTypes = Strings(field, "input_types");
        return new FieldDefinition(
            name,
            String(field, "type") ?? "str",
            String(field, "_input_type"),
            value.ValueKind == JsonValueKind.Undefined ? default : value.Clone(),
            filePath,
            Show: !field.TryGetProperty("show", out var show) || show.ValueKind != JsonValueKind.False,
            Bool(field, "required"),
            Bool(field, "load_from_db"),
            Bool(field, "list") || Bool(field, "is_list"),
            Bool(field, "tool_mode"),
            Bool(field, "advanced"),
            inputTypes);
    }

    static EdgeDefinition? ReadEdge(JsonElement edge)
    {
        if (edge.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var source = String(edge, "source");
        var target = String(edge, "target");
        if (string.IsNullOrEmpty(source) || string.IsNullOrEmpty(target))
        {
            return null;
        }

        JsonElement sourceHandle = default;
        JsonElement targetHandle = default;
        var format = HandleFormat.Missing;
        if (edge.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object &&
            data.TryGetProperty("sourceHandle", out sourceHandle) && sourceHandle.ValueKind == JsonValueKind.Object &&
            data.TryGetProperty("targetHandle", out targetHandle) && targetHandle.ValueKind == JsonValueKind.Object)
        {
            format = HandleFormat.DataObject;
        }
        else
        {
            var sourceText = String(edge, "sourceHandle");
            var targetText = String(edge, "targetHandle");
            if (DecodeHandle(sourceText) is { } decodedSource && DecodeHandle(targetText) is { } decodedTarget)
            {
                sourceHandle = decodedSource;
                targetHandle = decodedTarget;
                format = HandleFormat.EncodedString;
            }
            else if (sourceText?.Contains('|', StringComparison.Ordinal) == true || targetText?.Contains('|', StringComparison.Ordinal) == true)
            {
                format = HandleFormat.LegacyPipe;
            }
        }

        if (format is HandleFormat.LegacyPipe or HandleFormat.Missing)
        {
            return new EdgeDefinition(String(edge, "id"), source, target, null, [], null, [], null, null, format);
        }

        var fieldName = String(targetHandle, "fieldName");
        var loopBackOutput = fieldName is null ? String(targetHandle, "name") : null;
        return new EdgeDefinition(
            String(edge, "id"),
            source,
            target,
            String(sourceHandle, "name"),
            Strings(sourceHandle, "output_types"),
            fieldName,
            Strings(targetHandle, "inputTypes"),
            String(targetHandle, "type"),
            loopBackOutput,
            format);
    }

    /// <summary>
    /// A handle string is the handle object serialised as JSON with every <c>"</c> replaced by <c>œ</c> (U+0153),
    /// in two spacings; decoding it as JSON handles both (format §1.5).
    /// </summary>
    internal static JsonElement? DecodeHandle(string? encoded)
    {
        if (encoded is null || !encoded.StartsWith('{'))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(encoded.Replace('œ', '"'), new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The component class of a code string: the last top-level class deriving from a *Component base.</summary>
    static string? ClassName(string code)
    {
        string? first = null;
        string? component = null;
        foreach (Match match in ClassLine().Matches(code))
        {
            first ??= match.Groups[1].Value;
            if (match.Groups[2].Value.Contains("Component", StringComparison.Ordinal))
            {
                component = match.Groups[1].Value;
            }
        }

        return component ?? first;
    }

    static string? String(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    static bool Bool(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    static ImmutableArray<string> Strings(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var builder = ImmutableArray.CreateBuilder<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String && item.GetString() is { } text)
            {
                builder.Add(text);
            }
        }

        return builder.ToImmutable();
    }

    [GeneratedRegex(@"^class\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)\n]*)\))?\s*:", RegexOptions.Multiline)]
    private static partial Regex ClassLine();

    [GeneratedRegex(@"^\d+")]
    private static partial Regex LeadingMajor();
}
