using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Langflow;

/// <summary>
/// Builds Langflow's <c>/api/v1/run</c> response body from a <see cref="RunResult"/> (langflow-format.md §6.1):
/// <c>{session_id, outputs: [{inputs, outputs: [ResultData]}]}</c>, with <c>results</c>, <c>artifacts</c>,
/// <c>outputs</c>, <c>logs</c> and <c>messages</c> filled so every known client finds the answer where it looks.
/// Pure data: the host returns the node as JSON.
/// </summary>
public static class LangflowRunResponse
{
    /// <summary>The response body of a successful run.</summary>
    public static JsonObject Build(RunResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var inputs = new JsonObject();
        if (result.InputValue is not null)
        {
            inputs["input_value"] = result.InputValue;
        }

        var resultData = new JsonArray();
        foreach (var output in result.Outputs)
        {
            resultData.Add(ResultData(output, result.SessionId));
        }

        return new JsonObject
        {
            ["session_id"] = result.SessionId,
            ["outputs"] = new JsonArray { new JsonObject { ["inputs"] = inputs, ["outputs"] = resultData } },
        };
    }

    /// <summary>
    /// The 500 body of a failed run: <c>{"detail": "&lt;JSON string&gt;"}</c> whose string carries Langflow's
    /// "Error running graph: …" message (format §6.1).
    /// </summary>
    public static JsonObject Error(RunError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var inner = new JsonObject
        {
            ["message"] = error.LangflowMessage,
            ["traceback"] = null,
            ["description"] = null,
            ["code"] = null,
            ["suggestion"] = null,
        };
        return new JsonObject { ["detail"] = inner.ToJsonString() };
    }

    static JsonObject ResultData(NodeOutput output, string sessionId)
    {
        var results = new JsonObject();
        var outputs = new JsonObject();
        var logs = new JsonObject();
        var messages = new JsonArray();
        JsonNode artifacts = new JsonObject();
        foreach (var value in output.Values)
        {
            results[value.Name] = Serialize(value.Value);
            logs[value.Name] = new JsonArray();
            outputs[value.Name] = new JsonObject
            {
                ["message"] = OutputMessage(value.Value),
                ["type"] = OutputType(value.Value),
            };
            if (value.Value is Message { Sender: not null } message)
            {
                messages.Add(new JsonObject
                {
                    ["message"] = message.Sender == MessageSenders.Machine ? Paragraphs(message.Text) : message.Text,
                    ["sender"] = message.Sender,
                    ["sender_name"] = message.SenderName,
                    ["session_id"] = message.SessionId.Length > 0 ? message.SessionId : sessionId,
                    ["stream_url"] = null,
                    ["component_id"] = output.NodeId,
                    ["files"] = Strings(message.Files),
                    ["type"] = "text",
                });
            }
        }

        if (output.Values is [{ Value: Message single }])
        {
            artifacts = new JsonObject
            {
                ["message"] = single.Text,
                ["sender"] = single.Sender,
                ["sender_name"] = single.SenderName,
                ["files"] = Strings(single.Files),
                ["type"] = "object",
            };
        }
        else
        {
            foreach (var value in output.Values)
            {
                ((JsonObject)artifacts)[value.Name] = new JsonObject
                {
                    ["repr"] = OutputMessage(value.Value) is JsonValue text ? text.DeepClone() : (OutputMessage(value.Value)?.ToJsonString() ?? ""),
                    ["raw"] = Serialize(value.Value),
                    ["type"] = OutputType(value.Value),
                };
            }
        }

        return new JsonObject
        {
            ["results"] = results,
            ["artifacts"] = artifacts,
            ["outputs"] = outputs,
            ["logs"] = logs,
            ["messages"] = messages,
            ["timedelta"] = null,
            ["duration"] = null,
            ["component_display_name"] = output.DisplayName,
            ["component_id"] = output.NodeId,
            ["used_frozen_result"] = false,
        };
    }

    /// <summary>Langflow normalises Machine messages to paragraphs in <c>messages[].message</c> only: "\n\n" → "\n", then "\n" → "\n\n".</summary>
    static string Paragraphs(string text) => text.Replace("\n\n", "\n", StringComparison.Ordinal).Replace("\n", "\n\n", StringComparison.Ordinal);

    static JsonNode? OutputMessage(object? value) => value switch
    {
        Message message => message.Text,
        string text => text,
        _ => Serialize(value) switch
        {
            JsonObject data when value is Data => data["data"]?.DeepClone(),
            var other => other,
        },
    };

    static string OutputType(object? value) => value switch
    {
        Message or string => "text",
        Data => "data",
        DataFrame or IReadOnlyList<object?> => "array",
        null => "unknown",
        _ => "object",
    };

    /// <summary>How Langflow serialises a value in <c>results</c>.</summary>
    internal static JsonNode? Serialize(object? value) => value switch
    {
        null => null,
        Message message => MessageJson(message, includeTopLevelId: false),
        Data data => new JsonObject
        {
            ["text_key"] = data.TextKey,
            ["data"] = JsonNode.Parse(data.Value.GetRawText()),
            ["default_value"] = data.DefaultValue,
        },
        DataFrame frame => new JsonArray([.. frame.Rows.Select(row => JsonNode.Parse(row.Value.GetRawText()))]),
        string text => text,
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        IReadOnlyList<object?> items => new JsonArray([.. items.Select(Serialize)]),
        ToolValue tool => new JsonArray([.. tool.Tools.Select(item => (JsonNode?)new JsonObject { ["name"] = item.Name, ["description"] = item.Description })]),
        LanguageModelValue model => new JsonObject { ["model"] = model.Settings.Model, ["provider"] = model.Settings.Provider },
        EmbeddingsValue embeddings => new JsonObject { ["embeddings"] = embeddings.Model },
        _ => PythonText.StrOfObject(value),
    };

    /// <summary>A message as Langflow 1.x serialises it: the flat fields plus the Data envelope.</summary>
    internal static JsonObject MessageJson(Message message, bool includeTopLevelId)
    {
        var properties = new JsonObject
        {
            ["text_color"] = message.Properties.TextColor,
            ["background_color"] = message.Properties.BackgroundColor,
            ["edited"] = false,
            ["source"] = new JsonObject
            {
                ["id"] = message.Properties.Source?.Id,
                ["display_name"] = message.Properties.Source?.DisplayName,
                ["source"] = message.Properties.Source?.Source,
            },
            ["icon"] = message.Properties.Icon,
            ["allow_markdown"] = false,
            ["positive_feedback"] = null,
            ["state"] = message.Properties.State,
            ["targets"] = new JsonArray(),
        };
        var data = new JsonObject
        {
            ["timestamp"] = MessageFields.Timestamp(message),
            ["sender"] = message.Sender,
            ["sender_name"] = message.SenderName,
            ["session_id"] = message.SessionId,
            ["text"] = message.Text,
            ["files"] = Strings(message.Files),
            ["error"] = message.Error,
            ["edit"] = message.Edit,
            ["properties"] = properties.DeepClone(),
            ["category"] = message.Category,
            ["content_blocks"] = ContentBlocks(message),
            ["id"] = message.Id,
            ["flow_id"] = message.FlowId,
            ["duration"] = message.DurationMs,
        };
        var json = new JsonObject
        {
            ["text_key"] = "text",
            ["data"] = data,
            ["default_value"] = "",
            ["text"] = message.Text,
            ["sender"] = message.Sender,
            ["sender_name"] = message.SenderName,
            ["files"] = Strings(message.Files),
            ["session_id"] = message.SessionId,
            ["timestamp"] = message.Timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture),
            ["flow_id"] = message.FlowId,
            ["error"] = message.Error,
            ["edit"] = message.Edit,
            ["properties"] = properties,
            ["category"] = message.Category,
            ["content_blocks"] = ContentBlocks(message),
            ["duration"] = message.DurationMs,
        };
        if (includeTopLevelId)
        {
            json["id"] = message.Id;
        }

        return json;
    }

    static JsonArray ContentBlocks(Message message) => new([.. message.ContentBlocks.Select(block => (JsonNode?)new JsonObject
    {
        ["title"] = block.Title,
        ["contents"] = new JsonArray([.. block.Contents.Select(Step)]),
        ["allow_markdown"] = true,
        ["media_url"] = null,
    })]);

    static JsonNode? Step(StepContent step)
    {
        var json = new JsonObject
        {
            ["type"] = step.Kind,
            ["duration"] = step.DurationMs,
            ["header"] = new JsonObject { ["title"] = step.HeaderTitle, ["icon"] = step.HeaderIcon },
        };
        if (step.Kind == "tool_use")
        {
            json["name"] = step.ToolName;
            json["tool_input"] = step.ToolInput is { } input ? JsonNode.Parse(input) : new JsonObject();
            json["output"] = step.ToolOutput;
            json["error"] = step.ToolError;
        }
        else
        {
            json["text"] = step.Text;
        }

        return json;
    }

    static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(value => (JsonNode?)value)]);
}

/// <summary>
/// Langflow's streaming body (format §6.2): one JSON object per event, each followed by a blank line.
/// <c>add_message</c>, <c>token</c> and <c>end</c> as Langflow sends them, plus the <c>error</c> event Langflow
/// forgets (<c>{"event":"error","data":{"error": …, "code": …}}</c>); other engine events have no Langflow form.
/// </summary>
public static class LangflowStreamEvents
{
    /// <summary>The event's Langflow payload, or null when Langflow has no such event.</summary>
    public static JsonObject? ToPayload(RunEvent runEvent) => runEvent switch
    {
        MessageAdded added => Event("add_message", LangflowRunResponse.MessageJson(added.Message, includeTopLevelId: true)),
        TokenEmitted token => Event("token", new JsonObject { ["chunk"] = token.Chunk, ["id"] = token.MessageId }),
        RunCompleted completed => Event("end", new JsonObject { ["result"] = LangflowRunResponse.Build(completed.Result) }),
        RunFailed failed => Event("error", new JsonObject
        {
            ["error"] = failed.Result.Error?.LangflowMessage ?? "The run failed.",
            ["code"] = failed.Result.Error?.Code,
        }),
        _ => null,
    };

    /// <summary>The event as one chunk of the stream body (JSON then a blank line), or null.</summary>
    public static string? ToChunk(RunEvent runEvent) => ToPayload(runEvent) is { } payload ? payload.ToJsonString() + "\n\n" : null;

    static JsonObject Event(string name, JsonObject data) => new() { ["event"] = name, ["data"] = data };
}

/// <summary>Reads a Langflow <c>/api/v1/run</c> request body into a <see cref="RunRequest"/> (format §6.1).</summary>
public static class LangflowRunBody
{
    /// <summary>
    /// Parses the body. As in Langflow, an <c>input_request</c> wrapper is accepted, unknown keys are ignored, and a
    /// well-formed body with a wrongly typed field is replaced by the all-defaults request
    /// (<paramref name="replacedWithDefaults"/> is then true, for the host to log).
    /// </summary>
    public static RunRequest Parse(JsonElement body, out bool replacedWithDefaults)
    {
        replacedWithDefaults = false;
        if (body.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            return new RunRequest();
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            replacedWithDefaults = true;
            return new RunRequest();
        }

        if (body.TryGetProperty("input_request", out var wrapped) && wrapped.ValueKind == JsonValueKind.Object)
        {
            body = wrapped;
        }

        try
        {
            return new RunRequest
            {
                InputValue = OptionalString(body, "input_value"),
                InputType = OptionalString(body, "input_type") ?? "chat",
                OutputType = OptionalString(body, "output_type") ?? "chat",
                OutputComponent = OptionalString(body, "output_component") is { Length: > 0 } component ? component : null,
                Tweaks = body.TryGetProperty("tweaks", out var tweaks) && tweaks.ValueKind != JsonValueKind.Null
                    ? tweaks.ValueKind == JsonValueKind.Object ? tweaks.Clone() : throw new FormatException("tweaks")
                    : null,
                SessionId = OptionalString(body, "session_id"),
            };
        }
        catch (FormatException)
        {
            replacedWithDefaults = true;
            return new RunRequest();
        }
    }

    static string? OptionalString(JsonElement body, string name) =>
        !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new FormatException(name);
}
