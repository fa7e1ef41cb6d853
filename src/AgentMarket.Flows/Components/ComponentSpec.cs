using System.Collections.Immutable;

namespace AgentMarket.Flows.Components;

/// <summary>How a component reads an input: which conversion its accessor applies.</summary>
internal enum InputKind
{
    /// <summary>Text (MessageTextInput, MultilineInput, Dropdown, Tab…): a Message edge reads as its text.</summary>
    Text,

    /// <summary>A Message or text (MessageInput); the value is kept as is.</summary>
    Message,

    /// <summary>Any edge value (HandleInput): Message, Data, DataFrame, Tool, LanguageModel…</summary>
    Handle,

    /// <summary>A boolean.</summary>
    Bool,

    /// <summary>An integer.</summary>
    Int,

    /// <summary>A number.</summary>
    Float,

    /// <summary>A JSON value: table rows, dictionaries, the model selector.</summary>
    Json,

    /// <summary>File paths.</summary>
    Files,
}

/// <summary>
/// One input a component reads, with Langflow's default for when the template lacks or hides the field.
/// Declared once per component type; its <see cref="Ordinal"/> indexes the node's bindings, so no name is looked up at run time.
/// </summary>
internal sealed class InputSpec(string name, InputKind kind, object? defaultValue = null, string? toolDescription = null)
{
    public string Name { get; } = name;

    public InputKind Kind { get; } = kind;

    public object? Default { get; } = defaultValue;

    /// <summary>Non-null when the input is a tool argument in tool mode; the text is its description for the model.</summary>
    public string? ToolDescription { get; } = toolDescription;

    public int Ordinal { get; private set; } = -1;

    internal void AssignOrdinal(int ordinal, string component)
    {
        if (Ordinal >= 0 && Ordinal != ordinal)
        {
            throw new InvalidOperationException($"Input '{Name}' of {component} is declared twice.");
        }

        Ordinal = ordinal;
    }
}

/// <summary>One output a component produces (format §1.4).</summary>
internal sealed class OutputSpec(string name, params string[] types)
{
    public string Name { get; } = name;

    public ImmutableArray<string> Types { get; } = [.. types];

    public int Ordinal { get; private set; } = -1;

    internal void AssignOrdinal(int ordinal, string component)
    {
        if (Ordinal >= 0 && Ordinal != ordinal)
        {
            throw new InvalidOperationException($"Output '{Name}' of {component} is declared twice.");
        }

        Ordinal = ordinal;
    }
}

/// <summary>A function a component exposes in tool mode: which output it computes from which arguments.</summary>
/// <param name="Name">Langflow's default tool name (the output's method name, e.g. <c>evaluate_expression</c>).</param>
/// <param name="Description">What the model is told the tool does.</param>
/// <param name="Output">The output the tool returns.</param>
/// <param name="Arguments">The inputs the model fills in.</param>
internal sealed record ToolSpec(string Name, string Description, OutputSpec Output, ImmutableArray<InputSpec> Arguments);

/// <summary>Capability names reported in <see cref="Validation.CompatibilityReport.RequiredCapabilities"/>.</summary>
internal static class Capabilities
{
    public const string ChatModel = "chat_model";
    public const string ToolCalling = "tool_calling";
    public const string JsonOutput = "json_output";
    public const string Retrieval = "retrieval";
    public const string OutboundHttp = "outbound_http";
    public const string Documents = "documents";
    public const string SessionMemory = "session_memory";
}

/// <summary>
/// A component type: its Langflow names, inputs and outputs. <see cref="TypeNames"/> are <c>data.type</c> values,
/// <see cref="ClassNames"/> the Python classes named by <c>metadata.module</c> or the code (format §1.6).
/// </summary>
internal sealed class ComponentSpec
{
    public const string ToolOutputName = "component_as_tool";

    public ComponentSpec(
        string name,
        ImmutableArray<string> typeNames,
        ImmutableArray<string> classNames,
        ImmutableArray<InputSpec> inputs,
        ImmutableArray<OutputSpec> outputs,
        ImmutableArray<ToolSpec> tools = default,
        bool dynamicInputs = false)
    {
        Name = name;
        TypeNames = typeNames;
        ClassNames = classNames;
        Inputs = inputs;
        Tools = tools.IsDefault ? [] : tools;
        Outputs = Tools.IsEmpty ? outputs : [.. outputs, new OutputSpec(ToolOutputName, "Tool")];
        DynamicInputs = dynamicInputs;
        for (var index = 0; index < Inputs.Length; index++)
        {
            Inputs[index].AssignOrdinal(index, name);
        }

        for (var index = 0; index < Outputs.Length; index++)
        {
            Outputs[index].AssignOrdinal(index, name);
        }
    }

    public string Name { get; }

    public ImmutableArray<string> TypeNames { get; }

    public ImmutableArray<string> ClassNames { get; }

    public ImmutableArray<InputSpec> Inputs { get; }

    public ImmutableArray<OutputSpec> Outputs { get; }

    public ImmutableArray<ToolSpec> Tools { get; }

    /// <summary>True when every template field is an input (the Prompt's variables).</summary>
    public bool DynamicInputs { get; }

    public OutputSpec? Output(string name)
    {
        foreach (var output in Outputs)
        {
            if (output.Name == name)
            {
                return output;
            }
        }

        return null;
    }

    public InputSpec? Input(string name)
    {
        foreach (var input in Inputs)
        {
            if (input.Name == name)
            {
                return input;
            }
        }

        return null;
    }
}
