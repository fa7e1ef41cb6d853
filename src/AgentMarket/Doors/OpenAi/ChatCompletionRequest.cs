using System.Text.Json;
using AgentMarket.Flows.Values;
using AgentMarket.Gateway;

namespace AgentMarket.Doors.OpenAi;

/// <summary>
/// What a door run needs from an OpenAI chat completion request: the model (an agent's name), the last user message as
/// the input and the earlier user and assistant turns as the conversation. Read by hand rather than bound, so every
/// mistake is answered in OpenAI's error shape with the offending <c>param</c>.
/// </summary>
sealed record ChatCompletionRequest(string Model, string Input, IReadOnlyList<ConversationTurn> History, bool Stream, bool IncludeUsage, string? User)
{
    /// <summary>Longest <c>user</c> accepted: it becomes the gateway session, which holds at most 200 characters.</summary>
    const int MaxUserLength = 200;

    public static (ChatCompletionRequest? Request, OpenAiError? Error) Parse(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Invalid("The request body must be a JSON object.", null);
        }
        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || model.GetString() is not { Length: > 0 } modelName)
        {
            return Invalid("You must provide a model parameter: the name of one of your agents (GET /v1/models lists them).", "model");
        }
        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return Invalid("'messages' must be a non-empty array.", "messages");
        }
        if (Present(body, "tools") || Present(body, "functions"))
        {
            return Invalid("Agents choose their own tools: 'tools' and 'functions' are not supported.", Present(body, "tools") ? "tools" : "functions");
        }
        if (body.TryGetProperty("n", out var n) && n.ValueKind != JsonValueKind.Null && (n.ValueKind != JsonValueKind.Number || !n.TryGetInt32(out var count) || count != 1))
        {
            return Invalid("Only one choice per request is supported: 'n' must be 1.", "n");
        }
        if (!OptionalBool(body, "stream", out var stream))
        {
            return Invalid("'stream' must be a boolean.", "stream");
        }
        var includeUsage = false;
        if (body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object && !OptionalBool(options, "include_usage", out includeUsage))
        {
            return Invalid("'stream_options.include_usage' must be a boolean.", "stream_options.include_usage");
        }
        string? user = null;
        if (body.TryGetProperty("user", out var userElement) && userElement.ValueKind != JsonValueKind.Null)
        {
            if (userElement.ValueKind != JsonValueKind.String || userElement.GetString()!.Length > MaxUserLength)
            {
                return Invalid($"'user' must be a string of at most {MaxUserLength} characters.", "user");
            }
            user = userElement.GetString();
        }

        var turns = new List<ConversationTurn>();
        var index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var param = $"messages[{index++}]";
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var roleElement) || roleElement.ValueKind != JsonValueKind.String)
            {
                return Invalid("Each message must be an object with a 'role'.", param);
            }
            var role = roleElement.GetString();
            if (role is "system" or "developer")
            {
                // The agent's instructions are the provider's flow and the buyer's declared fields, not the client's.
                continue;
            }
            if (role is not ("user" or "assistant"))
            {
                return Invalid($"Messages with role '{role}' are not supported: send user and assistant turns.", $"{param}.role");
            }
            var (text, error) = Text(message, param);
            if (error is not null)
            {
                return (null, error);
            }
            turns.Add(new ConversationTurn(role == "user" ? MessageSenders.User : MessageSenders.Machine, text!));
        }
        if (turns is not [.., { Sender: MessageSenders.User } last])
        {
            return Invalid("The last message must be the user's: it is the agent's input.", "messages");
        }
        return (new ChatCompletionRequest(modelName, last.Text, turns[..^1], stream, includeUsage, user), null);
    }

    /// <summary>A message's text: a string, or the text parts of a content array joined by newlines.</summary>
    static (string? Text, OpenAiError? Error) Text(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return ("", null);
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString(), null);
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return (null, new OpenAiError(StatusCodes.Status400BadRequest, OpenAiError.InvalidRequest, null, "'content' must be a string or an array of content parts.", $"{param}.content"));
        }
        var parts = new List<string>();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "text"
                || !part.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                return (null, new OpenAiError(StatusCodes.Status400BadRequest, OpenAiError.InvalidRequest, null, "Only text content parts are supported.", $"{param}.content"));
            }
            parts.Add(text.GetString()!);
        }
        return (string.Join("\n", parts), null);
    }

    static bool Present(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind is not JsonValueKind.Null && !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() == 0);

    static bool OptionalBool(JsonElement body, string name, out bool value)
    {
        value = false;
        if (!body.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            return false;
        }
        value = element.GetBoolean();
        return true;
    }

    static (ChatCompletionRequest?, OpenAiError?) Invalid(string message, string? param) =>
        (null, new OpenAiError(StatusCodes.Status400BadRequest, OpenAiError.InvalidRequest, null, message, param));
}
