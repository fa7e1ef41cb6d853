using System.Text.Json;

namespace AgentMarket.Providers.Configuration;

/// <summary>A flow field a provider could let buyers set, as found in the export.</summary>
public sealed record FlowFieldCandidate(
    string NodeId, string NodeName, string ComponentType, string FieldName, string DisplayName, string FieldType,
    string? Value, ConfigurableFieldKind SuggestedKind, IReadOnlyList<string> Options, string? Info);

/// <summary>
/// Reads the template fields of a Langflow export (format §1.3) that make sense as buyer settings: visible, typed
/// values (text, prompts, numbers, booleans, dropdowns, a File node's documents), never secrets, global variables or code, and never a field an
/// edge feeds (the edge's value replaces whatever a buyer would set).
/// </summary>
public static class FlowFields
{
    /// <summary>Enough for any real flow; a hostile export with thousands of nodes is cut off here, not in memory.</summary>
    public const int MaxCandidates = 2000;

    static readonly JsonDocumentOptions ReadOptions = new() { MaxDepth = 128, AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static IReadOnlyList<FlowFieldCandidate> Candidates(ReadOnlyMemory<byte> flowJson)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(flowJson, ReadOptions);
        }
        catch (JsonException)
        {
            return [];
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
            {
                root = data;
            }
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Array)
            {
                return [];
            }
            var fedByEdges = EdgeTargets(root);
            var candidates = new List<FlowFieldCandidate>();
            foreach (var node in nodes.EnumerateArray())
            {
                AddCandidates(node, fedByEdges, candidates);
                if (candidates.Count >= MaxCandidates)
                {
                    break;
                }
            }
            return candidates;
        }
    }

    /// <summary>(target node, field) of every edge, read from the authoritative <c>data.targetHandle</c> (format §1.5).</summary>
    static HashSet<(string Node, string Field)> EdgeTargets(JsonElement graph)
    {
        var targets = new HashSet<(string, string)>();
        if (!graph.TryGetProperty("edges", out var edges) || edges.ValueKind != JsonValueKind.Array)
        {
            return targets;
        }
        foreach (var edge in edges.EnumerateArray())
        {
            if (edge.ValueKind == JsonValueKind.Object && String(edge, "target") is { } target
                && edge.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object
                && data.TryGetProperty("targetHandle", out var handle) && handle.ValueKind == JsonValueKind.Object
                && String(handle, "fieldName") is { } field)
            {
                targets.Add((target, field));
            }
        }
        return targets;
    }

    static void AddCandidates(JsonElement node, HashSet<(string Node, string Field)> fedByEdges, List<FlowFieldCandidate> candidates)
    {
        if (node.ValueKind != JsonValueKind.Object
            || String(node, "type") is { } wrapper && wrapper != "genericNode"
            || !node.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
            || !data.TryGetProperty("node", out var definition) || definition.ValueKind != JsonValueKind.Object
            || !definition.TryGetProperty("template", out var template) || template.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        var nodeId = String(data, "id") ?? String(node, "id");
        var componentType = String(data, "type") ?? "";
        if (string.IsNullOrEmpty(nodeId))
        {
            return;
        }
        var nodeName = String(definition, "display_name") ?? componentType;
        foreach (var field in template.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.Object && !fedByEdges.Contains((nodeId, field.Name))
                && Candidate(nodeId, nodeName, componentType, field.Name, field.Value) is { } candidate)
            {
                candidates.Add(candidate);
            }
        }
    }

    static FlowFieldCandidate? Candidate(string nodeId, string nodeName, string componentType, string name, JsonElement field)
    {
        // Hidden fields are not passed to components; secrets and global variables belong to the provider; code is never configurable.
        if (name.StartsWith('_') || name == "code" || Bool(field, "show") == false || Bool(field, "password") == true || Bool(field, "load_from_db") == true)
        {
            return null;
        }
        // The run's own input, not a setting.
        if (name == "input_value" && componentType is "ChatInput" or "TextInput")
        {
            return null;
        }
        var type = String(field, "type") ?? "";
        var options = field.TryGetProperty("options", out var list) && list.ValueKind == JsonValueKind.Array
            ? list.EnumerateArray().Where(o => o.ValueKind == JsonValueKind.String).Select(o => o.GetString()!).Take(ConfigurableFieldRules.MaxOptions).ToList()
            : [];
        ConfigurableFieldKind? kind = type switch
        {
            // The platform maps a vector store onto the run's knowledge bases and ignores its database: declared as a
            // knowledge-base field, it is the switch that lets the buyer's knowledge base in (one such field is enough).
            "str" when componentType == "AstraDB" && name == "database_name" => ConfigurableFieldKind.KnowledgeBase,
            "str" when options.Count > 0 => ConfigurableFieldKind.Choice,
            "str" when Bool(field, "multiline") == true || String(field, "_input_type") == "MultilineInput" => ConfigurableFieldKind.LongText,
            "str" when componentType == "KnowledgeRetrieval" && name == "knowledge_base" => ConfigurableFieldKind.KnowledgeBase,
            // A File node's documents: a buyer sets them as a knowledge base, whose documents the node then reads.
            "file" when componentType == "File" && name == "path" => ConfigurableFieldKind.KnowledgeBase,
            "str" => ConfigurableFieldKind.Text,
            "prompt" => ConfigurableFieldKind.LongText,
            "int" or "float" or "slider" => ConfigurableFieldKind.Number,
            "bool" => ConfigurableFieldKind.Boolean,
            _ => null,
        };
        if (kind is not { } suggested)
        {
            return null;
        }
        return new FlowFieldCandidate(nodeId, nodeName, componentType, name, String(field, "display_name") ?? name, type,
            ValueText(field), suggested, options, String(field, "info"));
    }

    static string? ValueText(JsonElement field)
    {
        if (!field.TryGetProperty("value", out var value))
        {
            return null;
        }
        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
            _ => null,
        };
        return text is { Length: > ConfigurableFieldRules.MaxTextLength } ? text[..ConfigurableFieldRules.MaxTextLength] : text;
    }

    static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    static bool? Bool(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } : null;
}
