using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AgentMarket.Flows.Validation;

namespace AgentMarket.Doors.Mcp;

/// <summary>
/// How an agent's flow takes input, as an MCP tool's arguments: <c>input</c> (the chat message) and <c>session_id</c>,
/// plus one string property per Text Input node the flow runs, named after the node. A flow without a Chat Input but
/// with Text Inputs takes only those; a flow with neither still takes <c>input</c>.
/// </summary>
sealed partial record ToolInputs(bool TakesMessage, IReadOnlyList<ToolInputs.TextInput> TextInputs)
{
    public const string Message = "input";
    public const string Session = "session_id";

    /// <summary>A Text Input node as a tool argument.</summary>
    public sealed record TextInput(string Property, string NodeId, string Label);

    /// <summary>A flow with one chat input and nothing else: what most agents are.</summary>
    public static readonly ToolInputs ChatOnly = new(true, []);

    public static ToolInputs Of(CompatibilityReport flow)
    {
        var running = flow.Nodes.Where(node => node.RunsViaApi).ToList();
        var taken = new HashSet<string>(StringComparer.Ordinal) { Message, Session };
        var textInputs = new List<TextInput>();
        foreach (var node in running.Where(node => node.Component == "TextInput"))
        {
            var label = node.DisplayName is { Length: > 0 } name ? name : node.Id;
            var property = PropertyName(label);
            for (var n = 2; !taken.Add(property); n++)
            {
                property = $"{PropertyName(label)}_{n}";
            }
            textInputs.Add(new TextInput(property, node.Id, label));
        }
        var takesMessage = running.Any(node => node.Component == "ChatInput") || textInputs.Count == 0;
        return new ToolInputs(takesMessage, textInputs);
    }

    /// <summary>The tool's <c>inputSchema</c>.</summary>
    public JsonElement Schema(string agentTitle)
    {
        var properties = new JsonObject();
        if (TakesMessage)
        {
            properties[Message] = new JsonObject { ["type"] = "string", ["description"] = $"The message for {agentTitle}." };
        }
        foreach (var input in TextInputs)
        {
            properties[input.Property] = new JsonObject
            {
                ["type"] = "string",
                ["description"] = $"{input.Label} (a text input of the agent; its preset text is used when omitted).",
            };
        }
        properties[Session] = new JsonObject
        {
            ["type"] = "string",
            ["description"] = "To continue a conversation, the session_id an earlier call returned; omit it to start a new one.",
        };
        var schema = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (TakesMessage)
        {
            schema["required"] = new JsonArray(Message);
        }
        return JsonSerializer.SerializeToElement(schema);
    }

    /// <summary>Reads a call's arguments: the message, the session and the text inputs by node id, or what is wrong with them.</summary>
    public (string? Message, string? Session, IReadOnlyDictionary<string, string> NodeInputs, string? Problem) Read(IReadOnlyDictionary<string, JsonElement>? arguments)
    {
        arguments ??= new Dictionary<string, JsonElement>();
        var nodeInputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in arguments)
        {
            var known = name is Message && TakesMessage || name is Session || TextInputs.Any(input => input.Property == name);
            if (!known)
            {
                return (null, null, nodeInputs, $"Unknown argument '{name}'. This tool takes: {string.Join(", ", Accepted())}.");
            }
            if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                return (null, null, nodeInputs, $"The argument '{name}' must be a string.");
            }
        }
        var message = Text(arguments, Message);
        if (TakesMessage && string.IsNullOrEmpty(message))
        {
            return (null, null, nodeInputs, $"The argument '{Message}' is required: the message for the agent.");
        }
        foreach (var input in TextInputs)
        {
            if (Text(arguments, input.Property) is { } text)
            {
                nodeInputs[input.NodeId] = text;
            }
        }
        return (message, Text(arguments, Session), nodeInputs, null);
    }

    IEnumerable<string> Accepted() => (TakesMessage ? [Message] : Array.Empty<string>()).Concat(TextInputs.Select(input => input.Property)).Append(Session);

    static string? Text(IReadOnlyDictionary<string, JsonElement> arguments, string name) =>
        arguments.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>"Blog Topic" → <c>blog_topic</c>: lower-case letters, digits and underscores, never starting with a digit.</summary>
    static string PropertyName(string label)
    {
        var name = NotWordCharacters().Replace(label.ToLowerInvariant(), "_").Trim('_');
        name = name.Length == 0 ? "text" : name;
        return char.IsAsciiDigit(name[0]) ? "_" + name : name;
    }

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NotWordCharacters();
}
