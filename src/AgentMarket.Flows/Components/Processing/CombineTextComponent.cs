using AgentMarket.Flows.Execution;

namespace AgentMarket.Flows.Components.Processing;

/// <summary>Combine Text: <c>text1</c> and <c>text2</c> joined by <c>delimiter</c>.</summary>
internal sealed class CombineTextComponent : Component
{
    static readonly InputSpec First = new("text1", InputKind.Text, "");
    static readonly InputSpec Second = new("text2", InputKind.Text, "");
    static readonly InputSpec Delimiter = new("delimiter", InputKind.Text, " ");
    static readonly OutputSpec Combined = new("combined_text", "Message");

    public override ComponentSpec Spec { get; } = new(
        "CombineText",
        typeNames: ["CombineText"],
        classNames: ["CombineTextComponent"],
        inputs: [First, Second, Delimiter],
        outputs: [Combined]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        node.Set(Combined, node.NewMessage(node.Text(First) + node.Text(Delimiter) + node.Text(Second)));
        return ValueTask.CompletedTask;
    }
}
