using System.Globalization;
using System.Text.RegularExpressions;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Components.Logic;

/// <summary>
/// If-Else (ConditionalRouter): compares <c>input_text</c> with <c>match_text</c> and sets only the chosen output
/// (the case message, or the input when the case is empty). The other output is dead: nodes fed only by it are
/// skipped, and a node fed by both branches runs once, from the live one. Regexes run with a timeout, so a
/// seller's pattern cannot hang a run.
/// </summary>
internal sealed class ConditionalRouterComponent : Component
{
    static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(250);

    static readonly InputSpec InputText = new("input_text", InputKind.Text, "");
    static readonly InputSpec Operator = new("operator", InputKind.Text, "equals");
    static readonly InputSpec MatchText = new("match_text", InputKind.Text, "");
    static readonly InputSpec CaseSensitive = new("case_sensitive", InputKind.Bool, true);
    static readonly InputSpec TrueCaseMessage = new("true_case_message", InputKind.Message);
    static readonly InputSpec FalseCaseMessage = new("false_case_message", InputKind.Message);
    static readonly InputSpec PassThrough = new("message", InputKind.Message);
    static readonly OutputSpec TrueResult = new("true_result", "Message");
    static readonly OutputSpec FalseResult = new("false_result", "Message");

    public override ComponentSpec Spec { get; } = new(
        "ConditionalRouter",
        typeNames: ["ConditionalRouter"],
        classNames: ["ConditionalRouterComponent"],
        inputs: [InputText, Operator, MatchText, CaseSensitive, TrueCaseMessage, FalseCaseMessage, PassThrough],
        outputs: [TrueResult, FalseResult]);

    public override ValueTask ExecuteAsync(NodeExecution node)
    {
        var input = node.Text(InputText);
        var outcome = Evaluate(input, node.Text(MatchText), node.Text(Operator), node.Bool(CaseSensitive));
        var (output, caseMessage) = outcome ? (TrueResult, TrueCaseMessage) : (FalseResult, FalseCaseMessage);
        if (node.IsRequested(output))
        {
            var chosen = node.Value(caseMessage) ?? node.Value(PassThrough);
            node.Set(output, chosen switch
            {
                Message message when message.Text.Length > 0 => message,
                string { Length: > 0 } text => node.NewMessage(text),
                _ => node.NewMessage(input),
            });
        }

        return ValueTask.CompletedTask;
    }

    internal static bool Evaluate(string input, string match, string comparison, bool caseSensitive)
    {
        if (!caseSensitive && comparison != "regex")
        {
            input = input.ToLowerInvariant();
            match = match.ToLowerInvariant();
        }

        return comparison switch
        {
            "equals" => input == match,
            "not equals" => input != match,
            "contains" => input.Contains(match, StringComparison.Ordinal),
            "starts with" => input.StartsWith(match, StringComparison.Ordinal),
            "ends with" => input.EndsWith(match, StringComparison.Ordinal),
            "regex" => RegexMatch(input, match, caseSensitive),
            "less than" => Compare(input, match) is < 0,
            "less than or equal" => Compare(input, match) is <= 0,
            "greater than" => Compare(input, match) is > 0,
            "greater than or equal" => Compare(input, match) is >= 0,
            _ => throw new FlowComponentException(RunErrorCodes.ComponentError, $"Unknown operator \"{comparison}\"."),
        };
    }

    static bool RegexMatch(string input, string pattern, bool caseSensitive)
    {
        try
        {
            return Regex.IsMatch(input, pattern, caseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase, RegexTimeout);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (RegexMatchTimeoutException)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "The If-Else regex took too long to evaluate.");
        }
    }

    /// <summary>Numeric comparison; text that is not a number makes the condition false, as in Langflow.</summary>
    static int? Compare(string input, string match) =>
        double.TryParse(input, NumberStyles.Float, CultureInfo.InvariantCulture, out var left) &&
        double.TryParse(match, NumberStyles.Float, CultureInfo.InvariantCulture, out var right)
            ? left.CompareTo(right)
            : null;
}
