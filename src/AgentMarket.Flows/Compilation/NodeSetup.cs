using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows.Components;
using AgentMarket.Flows.Loading;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Compilation;

/// <summary>What a component sees of its node at compile time: configured values, connections, and the report.</summary>
internal sealed class NodeSetup(
    NodeDefinition definition,
    ImmutableArray<InputBinding> bindings,
    bool runsViaApi,
    ICollection<ReportIssue> issues,
    ISet<string> capabilities,
    ICollection<ModelRequirement> models)
{
    public NodeDefinition Definition => definition;

    public string NodeId => definition.Id;

    /// <summary>False when the node is outside the part of the graph a run reaches; issues are then only warnings.</summary>
    public bool RunsViaApi => runsViaApi;

    public InputBinding Binding(InputSpec input) => bindings[input.Ordinal];

    public bool IsConnected(InputSpec input) => !bindings[input.Ordinal].Edges.IsEmpty;

    public bool IsConnected(string field) => bindings.Any(binding => binding.Name == field && !binding.Edges.IsEmpty);

    /// <summary>The configured value (or default), ignoring edges, tweaks and secrets.</summary>
    public object? Constant(InputSpec input) => bindings[input.Ordinal].Constant;

    public string ConstantText(InputSpec input) => TextConversion.AsText(Constant(input));

    public bool ConstantBool(InputSpec input) => PythonText.Truthy(Constant(input));

    public JsonElement? ConstantJson(InputSpec input) => Constant(input) as JsonElement?;

    public void Report(ReportIssue issue) => issues.Add(issue);

    public void Require(string capability) => capabilities.Add(capability);

    public void Model(ModelRequirement requirement) => models.Add(requirement);
}
