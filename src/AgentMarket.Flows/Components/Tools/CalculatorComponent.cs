using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Tools;

/// <summary>
/// Calculator (format §4.7): evaluates an arithmetic expression with <see cref="ArithmeticExpression"/>, never by
/// running code. <c>{"result": "12.5"}</c> on success; <c>{"error", "input"}</c> otherwise, as Langflow returns
/// errors as data so an Agent can read them.
/// </summary>
internal sealed class CalculatorComponent : Component
{
    static readonly InputSpec Expression = new("expression", InputKind.Text, "", "The arithmetic expression to evaluate (e.g., '4*4*(33/22)+12-20').");
    static readonly OutputSpec Result = new("result", "Data");

    public CalculatorComponent()
    {
        Spec = new ComponentSpec(
            "Calculator",
            typeNames: ["CalculatorComponent", "Calculator"],
            classNames: ["CalculatorComponent"],
            inputs: [Expression],
            outputs: [Result],
            tools: [new ToolSpec("evaluate_expression", "Perform basic arithmetic operations on a given expression.", Result, [Expression])]);
    }

    public override ComponentSpec Spec { get; }

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var expression = node.Text(Expression);
        Data result;
        try
        {
            result = Data.FromPairs([new("result", ArithmeticExpression.Format(ArithmeticExpression.Evaluate(expression)))]);
        }
        catch (DivideByZeroException)
        {
            result = Data.FromPairs([new("error", "Error: Division by zero"), new("input", expression)]);
        }
        catch (Exception exception) when (exception is FormatException or OverflowException)
        {
            result = Data.FromPairs([new("error", $"Invalid expression: {exception.Message}"), new("input", expression)]);
        }

        node.Set(Result, result);
        return ValueTask.CompletedTask;
    }
}
