using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Net;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using AiChatMessage = Microsoft.Extensions.AI.ChatMessage;
using AiFinishReason = Microsoft.Extensions.AI.ChatFinishReason;
using AiResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat;
using OpenAiChatMessage = OpenAI.Chat.ChatMessage;

namespace AgentMarket.Flows.Models;

/// <summary>Where and how <see cref="OpenAiCompatibleChatClient"/> calls an OpenAI-compatible chat completions endpoint.</summary>
public sealed record OpenAiCompatibleChatClientOptions
{
    /// <summary>The API base, e.g. <c>https://api.openai.com/v1</c> or <c>http://127.0.0.1:11434/v1</c> (Ollama); null for OpenAI.</summary>
    public Uri? BaseUrl { get; init; }

    /// <summary>The API key; servers that need none (Ollama, llama.cpp) accept any value.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The model used when a request names none (a flow's empty model field).</summary>
    public required string Model { get; init; }

    /// <summary>Time for one HTTP attempt.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>Retries of 429 and 5xx answers, with the SDK's backoff.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>A custom transport (tests, proxies); null uses the SDK's own.</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>
    /// The most bytes of tool-call arguments one streamed answer may assemble: a server that never ends a call's
    /// arguments fails the call instead of filling memory. As large as a run's whole output by default.
    /// </summary>
    public long MaxToolCallArgumentBytes { get; init; } = 1024 * 1024;
}

/// <summary>The model endpoint failed: an HTTP error status, a timeout, an unreachable host or a broken stream.</summary>
public sealed class ModelEndpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelEndpointException(string message, int? status, Exception? innerException)
        : base(message, innerException)
    {
        Status = status;
    }

    /// <summary>Creates the exception.</summary>
    public ModelEndpointException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelEndpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelEndpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status the endpoint answered, when it answered.</summary>
    public int? Status { get; }

    /// <summary>The endpoint did not answer within the client's timeout.</summary>
    public bool TimedOut { get; init; }

    /// <summary>How long the endpoint asked callers to wait (its <c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}

/// <summary>
/// <see cref="IChatClient"/> over the official <c>OpenAI</c> package for any OpenAI-compatible endpoint (OpenAI,
/// Ollama, vLLM, llama.cpp, LM Studio): system/user/assistant/tool messages, temperature, max tokens, seed, JSON
/// and JSON-schema output, tool calls (streamed tool-call deltas are assembled), and token usage from the response
/// (streaming requests ask for it with <c>stream_options.include_usage</c>, which the SDK sets).
/// Microsoft.Extensions.AI.OpenAI is not available here, hence this adapter.
/// </summary>
public sealed class OpenAiCompatibleChatClient : IChatClient
{
    readonly OpenAIClient _client;
    readonly OpenAiCompatibleChatClientOptions _options;
    readonly ConcurrentDictionary<string, ChatClient> _chatClients = new(StringComparer.Ordinal);

    /// <summary>Creates the client.</summary>
    public OpenAiCompatibleChatClient(OpenAiCompatibleChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        var clientOptions = new OpenAIClientOptions
        {
            NetworkTimeout = options.Timeout,
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
        };
        if (options.BaseUrl is { } baseUrl)
        {
            clientOptions.Endpoint = baseUrl;
        }

        if (options.HttpClient is { } httpClient)
        {
            clientOptions.Transport = new HttpClientPipelineTransport(httpClient);
        }

        // The SDK refuses an empty key; keyless servers ignore whatever is sent.
        _client = new OpenAIClient(new ApiKeyCredential(string.IsNullOrEmpty(options.ApiKey) ? "unused" : options.ApiKey), clientOptions);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<AiChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (client, model) = ClientFor(options);
        ChatCompletion completion;
        try
        {
            completion = (await client.CompleteChatAsync(ToOpenAi(messages), ToOpenAi(options), cancellationToken)).Value;
        }
        catch (Exception exception) when (Translate(exception, cancellationToken) is { } translated)
        {
            throw translated;
        }

        var contents = new List<AIContent>();
        var text = string.Concat(completion.Content.Where(part => part.Kind == ChatMessageContentPartKind.Text).Select(part => part.Text));
        if (text.Length > 0)
        {
            contents.Add(new TextContent(text));
        }

        foreach (var call in completion.ToolCalls)
        {
            contents.Add(FunctionCall(call.Id, call.FunctionName, call.FunctionArguments.ToString()));
        }

        return new ChatResponse(new AiChatMessage(ChatRole.Assistant, contents))
        {
            ResponseId = completion.Id,
            ModelId = completion.Model ?? model,
            CreatedAt = completion.CreatedAt,
            FinishReason = FinishReason(completion.FinishReason),
            Usage = Usage(completion.Usage),
            RawRepresentation = completion,
        };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<AiChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (client, model) = ClientFor(options);
        var toolCalls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
        await using var updates = client.CompleteChatStreamingAsync(ToOpenAi(messages), ToOpenAi(options), cancellationToken).GetAsyncEnumerator(cancellationToken);
        string? responseId = null;
        string? modelId = null;
        long argumentBytes = 0;
        var finished = false;
        while (true)
        {
            StreamingChatCompletionUpdate update;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    break;
                }

                update = updates.Current;
            }
            catch (Exception exception) when (Translate(exception, cancellationToken) is { } translated)
            {
                throw translated;
            }

            finished |= update.FinishReason is not null;
            responseId ??= update.CompletionId;
            modelId ??= update.Model;
            var contents = new List<AIContent>();
            foreach (var part in update.ContentUpdate)
            {
                if (part.Kind == ChatMessageContentPartKind.Text && part.Text.Length > 0)
                {
                    contents.Add(new TextContent(part.Text));
                }
            }

            foreach (var delta in update.ToolCallUpdates)
            {
                var current = toolCalls.TryGetValue(delta.Index, out var existing) ? existing : (null, null, new StringBuilder());
                current.Id ??= delta.ToolCallId;
                current.Name ??= delta.FunctionName;
                if (delta.FunctionArgumentsUpdate is { } arguments && !arguments.ToMemory().IsEmpty)
                {
                    argumentBytes += arguments.ToMemory().Length;
                    if (argumentBytes > _options.MaxToolCallArgumentBytes)
                    {
                        throw new ModelEndpointException($"the model's tool call arguments are larger than {_options.MaxToolCallArgumentBytes} bytes");
                    }

                    current.Arguments.Append(arguments.ToString());
                }

                toolCalls[delta.Index] = current;
            }

            if (update.FinishReason is not null && toolCalls.Count > 0)
            {
                contents.AddRange(toolCalls.Values.Select(call => FunctionCall(call.Id ?? "", call.Name ?? "", call.Arguments.ToString())));
                toolCalls.Clear();
            }

            if (update.Usage is { } usage)
            {
                contents.Add(new UsageContent(Usage(usage)!));
            }

            if (contents.Count == 0 && update.FinishReason is null)
            {
                continue;
            }

            yield return new ChatResponseUpdate(ChatRole.Assistant, contents)
            {
                ResponseId = responseId,
                ModelId = modelId ?? model,
                CreatedAt = update.CreatedAt,
                FinishReason = update.FinishReason is { } reason ? FinishReason(reason) : null,
                RawRepresentation = update,
            };
        }

        if (!finished)
        {
            // A stream that stops without saying why (the connection closed early, a proxy cut it) may have lost the rest
            // of the answer, or of a tool call's arguments: it is a failure, not a complete answer to charge for.
            throw new ModelEndpointException("the model's response stream ended before the answer was finished");
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return new ChatClientMetadata("openai-compatible", _options.BaseUrl, _options.Model);
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The SDK clients hold no unmanaged state; a caller-supplied HttpClient stays the caller's.
    }

    (ChatClient Client, string Model) ClientFor(ChatOptions? options)
    {
        var model = options?.ModelId is { Length: > 0 } requested ? requested : _options.Model;
        return (_chatClients.GetOrAdd(model, _client.GetChatClient), model);
    }

    static List<OpenAiChatMessage> ToOpenAi(IEnumerable<AiChatMessage> messages)
    {
        var converted = new List<OpenAiChatMessage>();
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                converted.Add(new SystemChatMessage(message.Text));
            }
            else if (message.Role == ChatRole.User)
            {
                converted.Add(new UserChatMessage(message.Text));
            }
            else if (message.Role == ChatRole.Assistant)
            {
                var calls = message.Contents.OfType<FunctionCallContent>()
                    .Select(call => ChatToolCall.CreateFunctionToolCall(call.CallId, call.Name, BinaryData.FromString(JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()))))
                    .ToList();
                if (calls.Count == 0)
                {
                    converted.Add(new AssistantChatMessage(message.Text));
                }
                else
                {
                    var assistant = new AssistantChatMessage(calls);
                    if (message.Text.Length > 0)
                    {
                        assistant.Content.Add(ChatMessageContentPart.CreateTextPart(message.Text));
                    }

                    converted.Add(assistant);
                }
            }
            else if (message.Role == ChatRole.Tool)
            {
                foreach (var result in message.Contents.OfType<FunctionResultContent>())
                {
                    converted.Add(new ToolChatMessage(result.CallId, result.Result switch
                    {
                        null => "",
                        string text => text,
                        var other => JsonSerializer.Serialize(other),
                    }));
                }
            }
        }

        return converted;
    }

    static ChatCompletionOptions ToOpenAi(ChatOptions? options)
    {
        var converted = new ChatCompletionOptions();
        if (options is null)
        {
            return converted;
        }

        converted.Temperature = options.Temperature;
        converted.MaxOutputTokenCount = options.MaxOutputTokens;
#pragma warning disable OPENAI001 // Seed is marked experimental by the SDK; flows (OpenAIModel) carry one.
        converted.Seed = options.Seed;
#pragma warning restore OPENAI001
        if (options.StopSequences is { } stops)
        {
            foreach (var stop in stops)
            {
                converted.StopSequences.Add(stop);
            }
        }

        converted.ResponseFormat = options.ResponseFormat switch
        {
            ChatResponseFormatJson { Schema: { } schema } json => OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat(
                json.SchemaName ?? "response", BinaryData.FromString(schema.GetRawText()), json.SchemaDescription),
            ChatResponseFormatJson => OpenAI.Chat.ChatResponseFormat.CreateJsonObjectFormat(),
            _ => null,
        };
        if (options.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools.OfType<AIFunctionDeclaration>())
            {
                converted.Tools.Add(ChatTool.CreateFunctionTool(tool.Name, tool.Description, BinaryData.FromString(tool.JsonSchema.GetRawText())));
            }

            converted.ToolChoice = options.ToolMode switch
            {
                NoneChatToolMode => ChatToolChoice.CreateNoneChoice(),
                RequiredChatToolMode => ChatToolChoice.CreateRequiredChoice(),
                _ => null,
            };
        }

        return converted;
    }

    static FunctionCallContent FunctionCall(string id, string name, string arguments)
    {
        IDictionary<string, object?>? parsed = null;
        Exception? error = null;
        try
        {
            parsed = string.IsNullOrWhiteSpace(arguments)
                ? new Dictionary<string, object?>()
                : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(arguments)?.ToDictionary(pair => pair.Key, pair => (object?)pair.Value);
        }
        catch (JsonException exception)
        {
            error = exception;
        }

        return new FunctionCallContent(id, name, parsed) { Exception = error };
    }

    static UsageDetails? Usage(ChatTokenUsage? usage) => usage is null
        ? null
        : new UsageDetails
        {
            InputTokenCount = usage.InputTokenCount,
            OutputTokenCount = usage.OutputTokenCount,
            TotalTokenCount = usage.TotalTokenCount,
            // Part of the output count (OpenAI's completion_tokens_details): tokens a reasoning model thought and did not write.
            ReasoningTokenCount = usage.OutputTokenDetails?.ReasoningTokenCount,
        };

    static AiFinishReason? FinishReason(OpenAI.Chat.ChatFinishReason reason) => reason switch
    {
        OpenAI.Chat.ChatFinishReason.Stop => AiFinishReason.Stop,
        OpenAI.Chat.ChatFinishReason.Length => AiFinishReason.Length,
        OpenAI.Chat.ChatFinishReason.ToolCalls or OpenAI.Chat.ChatFinishReason.FunctionCall => AiFinishReason.ToolCalls,
        OpenAI.Chat.ChatFinishReason.ContentFilter => AiFinishReason.ContentFilter,
        _ => null,
    };

    /// <summary>A <c>Retry-After</c> in seconds or as a date, as HTTP allows; nothing when absent, unreadable or past.</summary>
    static TimeSpan? RetryAfter(PipelineResponse? response)
    {
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || value is null)
        {
            return null;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        var now = DateTimeOffset.UtcNow;
        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) && when > now ? when - now : null;
    }

    /// <summary>Endpoint failures become <see cref="ModelEndpointException"/> with a short, key-free message.</summary>
    static ModelEndpointException? Translate(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        OperationCanceledException when cancellationToken.IsCancellationRequested => null,
        OutboundRequestException tooLarge => new ModelEndpointException($"the model's response was refused: {tooLarge.Message}", null, exception),
        ClientResultException result => new ModelEndpointException(
            $"the model endpoint answered HTTP {result.Status}{(result.GetRawResponse()?.ReasonPhrase is { Length: > 0 } phrase ? $" ({phrase})" : "")}",
            result.Status,
            result)
        {
            RetryAfter = RetryAfter(result.GetRawResponse()),
        },
        OperationCanceledException => new ModelEndpointException("the model endpoint did not answer in time", null, exception) { TimedOut = true },
        HttpRequestException => new ModelEndpointException($"the model endpoint could not be reached ({exception.Message})", null, exception),
        IOException or JsonException or InvalidOperationException or FormatException => new ModelEndpointException("the model's response stream broke off or was malformed", null, exception),
        _ => null,
    };
}
