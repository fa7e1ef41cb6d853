using System.Collections.Immutable;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Prompts;

/// <summary>
/// Prompt / Prompt Template (format §4.3): renders the template with its variables, which are the node's dynamic
/// fields, fed by edges, tweaks or their configured values. f-string mode follows Python's <c>str.format</c>;
/// double-bracket mode substitutes <c>{{name}}</c> once. The template is parsed at compile time unless a run overrides it.
/// </summary>
internal sealed class PromptComponent : Component
{
    static readonly InputSpec Template = new("template", InputKind.Text, "");
    static readonly InputSpec UseDoubleBrackets = new("use_double_brackets", InputKind.Bool, false);
    static readonly InputSpec Mode = new("mode", InputKind.Text, "f-string");
    static readonly InputSpec ToolPlaceholder = new("tool_placeholder", InputKind.Text, "");
    static readonly OutputSpec Prompt = new("prompt", "Message");

    public override ComponentSpec Spec { get; } = new(
        "Prompt",
        typeNames: ["Prompt", "Prompt Template", "PromptTemplate"],
        classNames: ["PromptComponent"],
        inputs: [Template, UseDoubleBrackets, Mode, ToolPlaceholder],
        outputs: [Prompt],
        dynamicInputs: true);

    public override object? Prepare(NodeSetup node)
    {
        var template = PromptTemplate.Parse(node.ConstantText(Template), IsMustache(node.ConstantBool(UseDoubleBrackets), node.ConstantText(Mode)));
        foreach (var variable in template.Variables)
        {
            if (node.Definition.Field(variable) is null)
            {
                node.Report(ReportIssue.Error(
                    IssueCodes.InvalidTemplate,
                    $"\"{node.NodeId}\": the template uses {{{variable}}} but the node has no field \"{variable}\"; open the prompt in Langflow and save it again.",
                    node.NodeId,
                    variable));
            }
        }

        return template;
    }

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var template = node.HasRuntimeValue(Template) || node.Prepared<PromptTemplate>() is null
            ? PromptTemplate.Parse(node.Text(Template), IsMustache(node.Bool(UseDoubleBrackets), node.Text(Mode)))
            : node.Prepared<PromptTemplate>()!;
        var text = template.Render((string name, out bool found) =>
        {
            found = node.HasField(name);
            return found ? TextConversion.AsText(node.Value(name)) : null;
        });
        node.Set(Prompt, node.NewMessage(text));
        return ValueTask.CompletedTask;
    }

    static bool IsMustache(bool useDoubleBrackets, string mode) =>
        useDoubleBrackets || mode.Contains("{{", StringComparison.Ordinal) || mode.Equals("mustache", StringComparison.OrdinalIgnoreCase);
}

/// <summary>A parsed prompt template.</summary>
internal sealed class PromptTemplate
{
    PromptTemplate(string text, bool mustache, ImmutableArray<string> variables)
    {
        Text = text;
        Mustache = mustache;
        Variables = variables;
    }

    public string Text { get; }

    public bool Mustache { get; }

    public ImmutableArray<string> Variables { get; }

    public static PromptTemplate Parse(string text, bool mustache) =>
        new(text, mustache, [.. mustache ? MustacheFormat.Variables(text) : PythonFormat.Variables(text)]);

    public string Render(PythonFormat.Lookup lookup) => Mustache ? MustacheFormat.Format(Text, lookup) : PythonFormat.Format(Text, lookup);
}
