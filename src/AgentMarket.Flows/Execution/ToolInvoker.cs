using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// Runs a tool-mode node on behalf of an Agent: the model's arguments overlay the node's inputs, only the tool's
/// output is computed, and the call is a node execution of its own (counted, timed, recorded with <c>as_tool</c>).
/// </summary>
internal static class ToolInvoker
{
    public static async Task<string> InvokeAsync(RunState run, int nodeIndex, PlanTool tool, IDictionary<string, object?>? arguments)
    {
        var node = run.Plan.Nodes[nodeIndex];
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var argument in tool.Spec.Arguments)
        {
            if (arguments is not null && arguments.TryGetValue(argument.Name, out var raw))
            {
                values[argument.Name] = FromModel(raw);
            }
        }

        run.BeginNodeExecution();
        var execution = new NodeExecution(run, node, values, tool.Spec.Output);
        await run.Events.WriteAsync(new NodeStarted(node.Id, node.DisplayName), run.Token);
        try
        {
            await node.Component.ExecuteAsync(execution);
        }
        catch (Exception exception) when (exception is not (RunLimitException or OperationCanceledException))
        {
            var (_, error, _) = FlowRunner.Classify(run, execution, exception);
            var record = execution.Finish(NodeRunStatus.Failed, error?.Code, error?.Message);
            run.Record(record);
            await run.Events.WriteAsync(new NodeFinished(record), run.Token);
            throw new FlowComponentException(error?.Code ?? RunErrorCodes.ComponentError, error?.Message ?? exception.Message, exception);
        }

        var succeeded = execution.Finish(NodeRunStatus.Succeeded);
        run.Record(succeeded);
        await run.Events.WriteAsync(new NodeFinished(succeeded), run.Token);
        return AsToolText(execution.ToolResult);
    }

    /// <summary>What the model reads back: text as is, structured values as JSON.</summary>
    internal static string AsToolText(object? value) => value switch
    {
        null => "",
        string text => text,
        Message message => message.Text,
        Data data => data.Value.GetRawText(),
        DataFrame frame => JsonValues.Array(frame.Rows.Select(row => row.Value)).GetRawText(),
        JsonElement element => element.ValueKind == JsonValueKind.String ? element.GetString() ?? "" : element.GetRawText(),
        _ => TextConversion.AsText(value),
    };

    static object? FromModel(object? raw) => raw switch
    {
        JsonElement { ValueKind: JsonValueKind.String } text => text.GetString(),
        JsonElement { ValueKind: JsonValueKind.Array } list => list.EnumerateArray().Select(item => FromModel(item)).ToList(),
        JsonElement { ValueKind: JsonValueKind.Number } number => number.TryGetInt64(out var whole) ? whole : number.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.True } => true,
        JsonElement { ValueKind: JsonValueKind.False } => false,
        JsonElement { ValueKind: JsonValueKind.Null } => null,
        _ => raw,
    };
}
