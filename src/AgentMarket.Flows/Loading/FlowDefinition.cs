using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;

namespace AgentMarket.Flows.Loading;

/// <summary>A faithful, immutable parse of a Langflow export: node ids verbatim, layout and unknown keys dropped.</summary>
internal sealed record FlowDefinition(
    string? Id,
    string? Name,
    string? Description,
    string? LastTestedVersion,
    bool IsComponent,
    ImmutableArray<NodeDefinition> Nodes,
    ImmutableArray<EdgeDefinition> Edges,
    int NoteCount);

/// <summary>One component node (<c>data.node</c> of a <c>genericNode</c>).</summary>
internal sealed record NodeDefinition(
    string Id,
    string Type,
    string? DisplayName,
    string? ModuleClass,
    string? CodeClass,
    bool HasCode,
    bool Edited,
    bool Frozen,
    bool ToolMode,
    ImmutableArray<FieldDefinition> Fields,
    FrozenDictionary<string, FieldDefinition> FieldsByName,
    ImmutableArray<OutputDefinition> Outputs,
    ImmutableArray<string> PromptVariables,
    bool IsGroup,
    bool LegacyShape)
{
    /// <summary>The text before the first '-' of the id; Langflow matches interface types against it.</summary>
    public string IdPrefix => Id.Split('-', 2)[0];

    public FieldDefinition? Field(string name) => FieldsByName.GetValueOrDefault(name);
}

/// <summary>One template field (format §1.3).</summary>
internal sealed record FieldDefinition(
    string Name,
    string Type,
    string? InputClass,
    JsonElement Value,
    JsonElement? FilePath,
    bool Show,
    bool Required,
    bool LoadFromDb,
    bool IsList,
    bool ToolMode,
    bool Advanced,
    ImmutableArray<string> InputTypes)
{
    public bool HasValue => Value.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    /// <summary>True when the value is null, "", [] or {}: nothing configured.</summary>
    public bool IsEmpty => Value.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => true,
        JsonValueKind.String => string.IsNullOrEmpty(Value.GetString()),
        JsonValueKind.Array => Value.GetArrayLength() == 0,
        JsonValueKind.Object => !Value.EnumerateObject().Any(),
        _ => false,
    };
}

/// <summary>One named output (format §1.4).</summary>
internal sealed record OutputDefinition(string Name, ImmutableArray<string> Types, string? Method, bool AllowsLoop);

/// <summary>How an edge's handles were written.</summary>
internal enum HandleFormat
{
    /// <summary><c>data.sourceHandle</c>/<c>data.targetHandle</c> objects (authoritative).</summary>
    DataObject,

    /// <summary>Only the œ-encoded JSON strings.</summary>
    EncodedString,

    /// <summary>Pre-1.0 pipe strings such as <c>OpenAI|OpenAI-YKFjJ|BaseLLM</c>.</summary>
    LegacyPipe,

    /// <summary>Nothing usable.</summary>
    Missing,
}

/// <summary>One edge, decoded (format §1.5).</summary>
internal sealed record EdgeDefinition(
    string? Id,
    string Source,
    string Target,
    string? SourceOutput,
    ImmutableArray<string> SourceTypes,
    string? TargetField,
    ImmutableArray<string> TargetInputTypes,
    string? TargetFieldType,
    string? LoopBackOutput,
    HandleFormat Format);
