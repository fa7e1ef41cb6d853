using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Components.Models;

/// <summary>
/// Agent (format §4.8): a tool-calling loop over the connected tool-mode components. Each iteration is one model
/// call; each requested tool runs as a node execution of its tool node; a tool's failure is fed back to the model
/// as the tool result rather than failing the run. Stops at the model's first answer without tool calls, or after
/// <c>max_iterations</c> with LangChain's "Agent stopped due to max iterations.". The session's history (minus this
/// turn) precedes the input. The loop is ours: Microsoft.Extensions.AI's FunctionInvokingChatClient is not available.
/// </summary>
internal sealed class AgentComponent : Component
{
    const string DefaultSystemPrompt = "You are a helpful assistant that can use tools to answer questions and perform tasks.";
    const string MaxIterationsAnswer = "Agent stopped due to max iterations.";
    const string DateToolName = "get_current_date";

    static readonly ModelInputs ModelFields = new();
    static readonly InputSpec SystemPrompt = new("system_prompt", InputKind.Text, DefaultSystemPrompt);
    static readonly InputSpec InputValue = new("input_value", InputKind.Message);
    static readonly InputSpec Tools = new("tools", InputKind.Handle);
    static readonly InputSpec HistoryCount = new("n_messages", InputKind.Int, 100L);
    static readonly InputSpec ContextId = new("context_id", InputKind.Text, "");
    static readonly InputSpec MaxIterations = new("max_iterations", InputKind.Int, 15L);
    static readonly InputSpec AddCurrentDateTool = new("add_current_date_tool", InputKind.Bool, true);
    static readonly InputSpec OutputSchema = new("output_schema", InputKind.Json);
    static readonly OutputSpec Response = new("response", "Message");

    static readonly JsonElement DateToolSchema = JsonValues.Parse(
        """{"type":"object","properties":{"timezone":{"type":"string","description":"Timezone for the current date and time, e.g. UTC or Europe/Paris.","default":"UTC"}},"required":[]}""");

    public override ComponentSpec Spec { get; } = new(
        "Agent",
        typeNames: ["Agent"],
        classNames: ["AgentComponent"],
        inputs: [.. ModelFields.All, SystemPrompt, InputValue, Tools, HistoryCount, ContextId, MaxIterations, AddCurrentDateTool, OutputSchema],
        outputs: [Response]);

    public override object? Prepare(NodeSetup node)
    {
        ModelFields.Describe(node, Capabilities.ToolCalling);
        node.Require(Capabilities.SessionMemory);
        if (node.ConstantJson(OutputSchema) is { ValueKind: JsonValueKind.Array } schema && schema.GetArrayLength() > 0)
        {
            node.Report(ReportIssue.Warning(
                IssueCodes.UnusedField,
                $"\"{node.NodeId}\": the output schema only shapes Langflow's structured agent output, which is not supported; the Response output is plain text.",
                node.NodeId,
                OutputSchema.Name));
        }

        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var settings = ModelFields.Read(node);
        var client = node.ChatClient(settings);
        var input = TextConversion.AsText(node.Value(InputValue));
        var tools = CollectTools(node);
        List<ChatMessage> chat = [];
        if (node.Text(SystemPrompt) is { Length: > 0 } system)
        {
            chat.Add(new ChatMessage(ChatRole.System, system));
        }

        chat.AddRange(await HistoryAsync(node));
        chat.Add(new ChatMessage(ChatRole.User, input));
        var options = LanguageModelComponent.Options(settings);
        options.Tools = [.. tools.Values.Select(tool => (AITool)tool.Declaration)];
        var steps = ImmutableArray.CreateBuilder<StepContent>();
        steps.Add(new StepContent("text", "Input", "MessageSquare", Text: input));
        string? answer = null;
        var iterations = Math.Max(1, node.Int(MaxIterations));
        for (var iteration = 0; iteration < iterations && answer is null; iteration++)
        {
            var response = await client.GetResponseAsync(chat, options, node.Cancellation);
            var calls = response.Messages.SelectMany(message => message.Contents).OfType<FunctionCallContent>().ToList();
            if (calls.Count == 0)
            {
                answer = response.Text;
                break;
            }

            chat.AddRange(response.Messages);
            foreach (var call in calls)
            {
                var started = Stopwatch.GetTimestamp();
                var (result, error) = await CallAsync(node, tools, call);
                chat.Add(new ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, result)]));
                steps.Add(new StepContent(
                    "tool_use",
                    $"Executed **{call.Name}**",
                    "Hammer",
                    ToolName: call.Name,
                    ToolInput: JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()),
                    ToolOutput: error is null ? result : null,
                    ToolError: error,
                    DurationMs: (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            }
        }

        answer ??= MaxIterationsAnswer;
        steps.Add(new StepContent("text", "Output", "MessageSquare", Text: answer));
        node.Set(Response, node.NewMessage(answer) with
        {
            Sender = MessageSenders.Machine,
            SenderName = "Agent",
            SessionId = node.SessionId,
            Properties = new MessageProperties { Icon = "Bot", Source = new MessageSource(node.NodeId, node.DisplayName, LanguageModelComponent.AnsweringModel(client, settings)) },
            ContentBlocks = [new ContentBlock("Agent Steps", steps.ToImmutable())],
        });
    }

    static async Task<IEnumerable<ChatMessage>> HistoryAsync(NodeExecution node)
    {
        var count = node.Int(HistoryCount);
        if (count <= 0)
        {
            return [];
        }

        var history = await node.Services.Messages.GetAsync(
            new Services.MessageQuery(node.SessionId, ContextId: node.Text(ContextId), Limit: (int)Math.Min(count, 10_000), ExcludeRunId: node.RunId),
            node.Cancellation);
        return history.Select(message => new ChatMessage(message.Sender == MessageSenders.User ? ChatRole.User : ChatRole.Assistant, message.Text));
    }

    static Dictionary<string, AgentTool> CollectTools(NodeExecution node)
    {
        var tools = new Dictionary<string, AgentTool>(StringComparer.Ordinal);
        foreach (var value in node.List(Tools))
        {
            if (value is not ToolValue offered)
            {
                continue;
            }

            foreach (var tool in offered.Tools)
            {
                // Two nodes offering the same function name get distinct names, as the model must tell them apart.
                var name = tool.Name;
                for (var suffix = 2; tools.ContainsKey(name); suffix++)
                {
                    name = ToolCatalog.Sanitize($"{tool.Name}_{suffix}");
                }

                tools[name] = new AgentTool(new ToolDeclaration(name, tool.Description, tool.ParametersSchema), offered.NodeIndex, tool);
            }
        }

        if (node.Bool(AddCurrentDateTool) && !tools.ContainsKey(DateToolName))
        {
            tools[DateToolName] = new AgentTool(new ToolDeclaration(DateToolName, "Returns the current date and time in a selected timezone.", DateToolSchema), -1, null);
        }

        return tools;
    }

    static async Task<(string Result, string? Error)> CallAsync(NodeExecution node, Dictionary<string, AgentTool> tools, FunctionCallContent call)
    {
        if (!tools.TryGetValue(call.Name, out var tool))
        {
            return ($"Error: there is no tool named \"{call.Name}\".", "unknown tool");
        }

        try
        {
            var result = tool.Target is null
                ? CurrentDate(node, call.Arguments)
                : await ToolInvoker.InvokeAsync(node.Run, tool.NodeIndex, tool.Target, call.Arguments);
            return (result, null);
        }
        catch (FlowComponentException exception)
        {
            // Fed back so the model can recover (another URL, a corrected expression); limits and cancellation are not caught.
            return ($"Error: {exception.Message}", exception.Message);
        }
    }

    static string CurrentDate(NodeExecution node, IDictionary<string, object?>? arguments)
    {
        var zoneName = arguments is not null && arguments.TryGetValue("timezone", out var raw) && raw is JsonElement { ValueKind: JsonValueKind.String } text &&
                       text.GetString() is { Length: > 0 } requested
            ? requested
            : "UTC";
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(zoneName);
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, $"Unknown timezone \"{zoneName}\".");
        }

        var local = TimeZoneInfo.ConvertTime(node.Now, zone);
        var suffix = zone.BaseUtcOffset == TimeSpan.Zero && zone.Id is "UTC" or "Etc/UTC" ? "UTC" : local.ToString("zzz", CultureInfo.InvariantCulture);
        return $"Current date and time in {zoneName}: {local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {suffix}";
    }

    sealed record AgentTool(ToolDeclaration Declaration, int NodeIndex, PlanTool? Target);
}

/// <summary>A function the model may call: name, description and JSON schema; invoked by the Agent's own loop.</summary>
internal sealed class ToolDeclaration(string name, string description, JsonElement schema) : AIFunctionDeclaration
{
    public override string Name => name;

    public override string Description => description;

    public override JsonElement JsonSchema => schema;
}
