using System.Collections.Frozen;
using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Flows.Compilation;

/// <summary>
/// A compiled flow: immutable, shared by every concurrent run, cacheable by the host per flow version. Holds the
/// nodes that a run reaches in file order, each with its inputs already bound to constants, edges, secrets, the run
/// input or the session. Per-run state never lives here (unlike Langflow's graph object).
/// </summary>
public sealed class ExecutionPlan
{
    internal ExecutionPlan(
        CompatibilityReport report,
        string? flowId,
        ImmutableArray<PlanNode> nodes,
        int slotCount,
        ImmutableArray<string> secretNames)
    {
        Report = report;
        FlowId = flowId;
        Nodes = nodes;
        SlotCount = slotCount;
        SecretNames = secretNames;
        NodeIndexById = nodes.ToFrozenDictionary(node => node.Id, node => node.Index, StringComparer.Ordinal);
        var byDisplayName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            if (node.DisplayName is { } name)
            {
                // Langflow tweaks the last node with a display name when several share it (format §5).
                byDisplayName[name] = node.Index;
            }
        }

        LastNodeIndexByDisplayName = byDisplayName.ToFrozenDictionary(StringComparer.Ordinal);
        var fieldOwners = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var node in nodes)
        {
            foreach (var field in node.Definition.Fields)
            {
                if (!fieldOwners.TryGetValue(field.Name, out var owners))
                {
                    fieldOwners[field.Name] = owners = [];
                }

                owners.Add(node.Index);
            }
        }

        NodesByFieldName = fieldOwners.ToFrozenDictionary(pair => pair.Key, pair => pair.Value.ToImmutableArray(), StringComparer.Ordinal);
        Roots = [.. nodes.Where(node => node.PredecessorCount == 0).Select(node => node.Index)];
        HasSessionStore = nodes.Any(node => node.SessionAware);
    }

    /// <summary>The compatibility report the plan was compiled from (runnable by construction).</summary>
    public CompatibilityReport Report { get; }

    /// <summary>The flow id: the export's id or the one given at compile time; the default session id.</summary>
    public string? FlowId { get; }

    /// <summary>The flow's name.</summary>
    public string? FlowName => Report.FlowName;

    internal ImmutableArray<PlanNode> Nodes { get; }

    internal int SlotCount { get; }

    internal ImmutableArray<int> Roots { get; }

    internal ImmutableArray<string> SecretNames { get; }

    internal FrozenDictionary<string, int> NodeIndexById { get; }

    internal FrozenDictionary<string, int> LastNodeIndexByDisplayName { get; }

    internal FrozenDictionary<string, ImmutableArray<int>> NodesByFieldName { get; }

    internal bool HasSessionStore { get; }
}

/// <summary>One node of a plan. Everything here is decided at compile time.</summary>
internal sealed class PlanNode
{
    public required int Index { get; init; }

    public required NodeDefinition Definition { get; init; }

    public required Component Component { get; init; }

    public required object? Prepared { get; init; }

    public required ImmutableArray<InputBinding> Bindings { get; init; }

    public required FrozenDictionary<string, int> BindingIndexByName { get; init; }

    public required int FirstSlot { get; init; }

    /// <summary>Per output ordinal: computed in this plan (an out-edge names it, or the node has no out-edge).</summary>
    public required ImmutableArray<bool> Requested { get; init; }

    public required ImmutableArray<int> Successors { get; init; }

    public required int PredecessorCount { get; init; }

    public required NodeRole Role { get; init; }

    /// <summary>The template has a <c>session_id</c> field: the run's session id is written into it.</summary>
    public required bool SessionAware { get; init; }

    /// <summary>A model node whose text feeds an output node: it streams tokens when streaming is on (format §4.4).</summary>
    public required bool StreamsToOutput { get; init; }

    public required ImmutableArray<PlanTool> Tools { get; init; }

    /// <summary>Direct upstream nodes, for ChatOutput's <c>properties.source</c>.</summary>
    public required ImmutableArray<int> Predecessors { get; init; }

    public string Id => Definition.Id;

    /// <summary>The lower-cased id: <c>input_type</c>/<c>output_type</c> are substring tests on it (format §3.2).</summary>
    public required string IdLower { get; init; }

    public string? DisplayName => Definition.DisplayName;

    public ComponentSpec Spec => Component.Spec;

    public int Slot(OutputSpec output) => FirstSlot + output.Ordinal;
}

/// <summary>Interface roles (format §3.1): matched on <c>data.type</c> or the id prefix.</summary>
[Flags]
internal enum NodeRole
{
    None = 0,
    ChatInput = 1,
    TextInput = 2,
    Webhook = 4,
    ChatOutput = 8,
    TextOutput = 16,
    DataOutput = 32,
    Input = ChatInput | TextInput | Webhook,
    Output = ChatOutput | TextOutput | DataOutput,
}

/// <summary>Where one input of one node gets its value, resolved at compile time.</summary>
internal sealed class InputBinding
{
    public required string Name { get; init; }

    public required InputSpec? Spec { get; init; }

    public required FieldDefinition? Field { get; init; }

    /// <summary>The field's <c>type</c>, which decides how tweaked values convert.</summary>
    public required string FieldType { get; init; }

    public required InputKind Kind { get; init; }

    public required ImmutableArray<EdgeSource> Edges { get; init; }

    public required bool IsList { get; init; }

    /// <summary>The configured value, converted; or the component default when the field is missing, hidden or empty-null.</summary>
    public required object? Constant { get; init; }

    /// <summary>The global-variable name of a <c>load_from_db</c> field.</summary>
    public required string? SecretName { get; init; }

    /// <summary>The request's <c>input_value</c> lands here (input nodes' <c>input_value</c>).</summary>
    public required bool TakesRunInput { get; init; }

    /// <summary>The run's session id lands here (session-aware nodes' <c>session_id</c>).</summary>
    public required bool TakesSession { get; init; }
}

/// <summary>An edge into a binding: which node produces it and in which output slot.</summary>
internal readonly record struct EdgeSource(int NodeIndex, int Slot, string OutputName);

/// <summary>A function a tool-mode node offers to an Agent, as the model sees it.</summary>
internal sealed record PlanTool(string Name, string Description, JsonElement ParametersSchema, ToolSpec Spec);
