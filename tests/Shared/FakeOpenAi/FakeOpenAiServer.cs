using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Testing.FakeOpenAi;

/// <summary>
/// An OpenAI-compatible chat completions server on Kestrel at 127.0.0.1 (a random port), for tests of the engine
/// and the platform. Replies are scripted by what the prompt contains; every request is recorded so a test can
/// assert the prompt the model received. Supports SSE streaming in chunks with usage, tool calls (streamed as
/// deltas too), <c>response_format</c>, latency, error statuses and broken streams. Also serves
/// <c>/v1/embeddings</c> with deterministic bag-of-words vectors (see <see cref="EmbedAlike"/>).
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly Lock _gate = new();
    readonly List<Rule> _rules = [];
    readonly List<RecordedRequest> _requests = [];
    readonly List<string> _embeddingInputs = [];
    readonly Dictionary<string, string> _embeddingAliases = new(StringComparer.Ordinal);
    int _embeddingStatus = 200;
    FakeReply _fallback = FakeReply.Say("(fake model: no scripted reply matched)");

    FakeOpenAiServer(WebApplication app) => _app = app;

    /// <summary>The API base to configure, e.g. <c>http://127.0.0.1:5123/v1</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every chat completion request received, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Every text the embeddings endpoint was asked to embed, in order.</summary>
    public IReadOnlyList<string> EmbeddingInputs
    {
        get
        {
            lock (_gate)
            {
                return [.. _embeddingInputs];
            }
        }
    }

    /// <summary>Starts a server.</summary>
    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        app.MapPost("/v1/embeddings", server.EmbedAsync);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = "fake-model", @object = "model" } } }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1/");
        return server;
    }

    /// <summary>Answers <paramref name="reply"/> when the prompt (all message texts) contains <paramref name="promptContains"/>; first matching rule wins.</summary>
    public FakeOpenAiServer When(string promptContains, FakeReply reply, int times = int.MaxValue) =>
        When(request => request.Prompt.Contains(promptContains, StringComparison.Ordinal), reply, times);

    /// <summary>Answers <paramref name="reply"/> to requests matching <paramref name="match"/>, at most <paramref name="times"/> times.</summary>
    public FakeOpenAiServer When(Func<RecordedRequest, bool> match, FakeReply reply, int times = int.MaxValue)
    {
        lock (_gate)
        {
            _rules.Add(new Rule(match, reply, times));
        }

        return this;
    }

    /// <summary>The answer when no rule matches.</summary>
    public FakeOpenAiServer Otherwise(FakeReply reply)
    {
        _fallback = reply;
        return this;
    }

    /// <summary>
    /// Makes the embeddings endpoint treat these words as one (synonyms to a model that knows meaning). Vectors are
    /// otherwise bags of words: texts sharing words are similar, texts sharing none are orthogonal.
    /// </summary>
    public FakeOpenAiServer EmbedAlike(params string[] words)
    {
        lock (_gate)
        {
            foreach (var word in words)
            {
                _embeddingAliases[word.ToLowerInvariant()] = words[0].ToLowerInvariant();
            }
        }

        return this;
    }

    /// <summary>Answers embedding requests with this HTTP status (200 restores normal answers).</summary>
    public FakeOpenAiServer FailEmbeddings(int status)
    {
        lock (_gate)
        {
            _embeddingStatus = status;
        }

        return this;
    }

    /// <summary>Forgets rules, recorded requests and embedding settings.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _rules.Clear();
            _requests.Clear();
            _embeddingInputs.Clear();
            _embeddingAliases.Clear();
            _embeddingStatus = 200;
        }
    }

    async Task CompleteAsync(HttpContext context)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var request = new RecordedRequest(document.RootElement.Clone(), context.Request.Headers.Authorization.ToString());
        FakeReply reply;
        lock (_gate)
        {
            _requests.Add(request);
            var rule = _rules.FirstOrDefault(candidate => candidate.Remaining > 0 && candidate.Match(request));
            if (rule is not null)
            {
                rule.Remaining--;
            }

            reply = rule?.Reply ?? _fallback;
        }

        if (reply.Gate is { } gate)
        {
            await gate.WaitAsync(context.RequestAborted);
        }

        if (reply.Latency > TimeSpan.Zero)
        {
            await Task.Delay(reply.Latency, context.RequestAborted);
        }

        if (reply.Status != 200)
        {
            context.Response.StatusCode = reply.Status;
            if (reply.RetryAfterSeconds is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            }

            await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake error {reply.Status}", type = "fake_error", code = reply.Status.ToString(CultureInfo.InvariantCulture) } });
            return;
        }

        var usage = reply.Usage ?? (Words(request.Prompt), Words(reply.Text ?? "") + reply.ToolCalls.Count);
        if (reply.PromptTokens is { } promptTokens)
        {
            usage = (promptTokens(request), usage.Completion);
        }
        if (request.Stream)
        {
            await StreamAsync(context, request, reply, usage);
        }
        else
        {
            await context.Response.WriteAsJsonAsync(Completion(request, reply, usage));
        }
    }

    async Task EmbedAsync(HttpContext context)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var body = document.RootElement;
        var input = body.GetProperty("input");
        List<string> texts = input.ValueKind == JsonValueKind.Array ? [.. input.EnumerateArray().Select(text => text.GetString() ?? "")] : [input.GetString() ?? ""];
        var base64 = body.TryGetProperty("encoding_format", out var format) && format.GetString() == "base64";
        int status;
        List<float[]> vectors;
        lock (_gate)
        {
            _embeddingInputs.AddRange(texts);
            status = _embeddingStatus;
            vectors = [.. texts.Select(BagOfWords)];
        }

        if (status != 200)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake error {status}", type = "fake_error", code = status.ToString(CultureInfo.InvariantCulture) } });
            return;
        }

        var data = new JsonArray([.. vectors.Select((vector, index) => (JsonNode)new JsonObject
        {
            ["object"] = "embedding",
            ["index"] = index,
            ["embedding"] = base64
                ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()))
                : new JsonArray([.. vector.Select(value => (JsonNode)value)]),
        })]);
        var tokens = texts.Sum(Words);
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = body.TryGetProperty("model", out var model) ? model.GetString() : "fake-embedding",
            ["usage"] = new JsonObject { ["prompt_tokens"] = tokens, ["total_tokens"] = tokens },
        });
    }

    /// <summary>Counts each word (after aliases) in one of 256 dimensions chosen by a stable hash of the word.</summary>
    float[] BagOfWords(string text)
    {
        const int dimensions = 256;
        var vector = new float[dimensions];
        var word = new StringBuilder();
        foreach (var c in text.ToLowerInvariant().Append(' '))
        {
            if (char.IsLetterOrDigit(c))
            {
                word.Append(c);
                continue;
            }

            if (word.Length > 0)
            {
                var canonical = _embeddingAliases.GetValueOrDefault(word.ToString(), word.ToString());
                var hash = 2166136261u;
                foreach (var letter in canonical)
                {
                    hash = (hash ^ letter) * 16777619u;
                }

                vector[hash % dimensions] += 1;
                word.Clear();
            }
        }

        return vector;
    }

    static JsonObject Completion(RecordedRequest request, FakeReply reply, (int Prompt, int Completion) usage)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text };
        if (reply.ToolCalls.Count > 0)
        {
            message["tool_calls"] = new JsonArray([.. reply.ToolCalls.Select(call => (JsonNode)new JsonObject
            {
                ["id"] = call.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson },
            })]);
        }

        var completion = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = request.Model ?? "fake-model",
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["finish_reason"] = reply.ToolCalls.Count > 0 ? "tool_calls" : "stop",
            }),
        };
        if (!reply.NoUsage)
        {
            completion["usage"] = Usage(usage, reply.ReasoningTokens);
        }
        return completion;
    }

    static async Task StreamAsync(HttpContext context, RecordedRequest request, FakeReply reply, (int Prompt, int Completion) usage)
    {
        context.Response.ContentType = "text/event-stream";
        var chunks = new List<JsonObject> { Chunk(request, new JsonObject { ["role"] = "assistant", ["content"] = "" }, null) };
        var text = reply.Text ?? "";
        for (var position = 0; position < text.Length; position += Math.Max(1, reply.ChunkSize))
        {
            chunks.Add(Chunk(request, new JsonObject { ["content"] = text.Substring(position, Math.Min(Math.Max(1, reply.ChunkSize), text.Length - position)) }, null));
        }

        for (var index = 0; index < reply.ToolCalls.Count; index++)
        {
            var call = reply.ToolCalls[index];
            chunks.Add(Chunk(request, ToolDelta(index, new JsonObject { ["name"] = call.Name, ["arguments"] = "" }, call.Id), null));
            var piece = reply.ArgumentChunkSize ?? Math.Max(1, (call.ArgumentsJson.Length + 1) / 2);
            for (var position = 0; position < call.ArgumentsJson.Length; position += piece)
            {
                chunks.Add(Chunk(request, ToolDelta(index, new JsonObject { ["arguments"] = call.ArgumentsJson.Substring(position, Math.Min(piece, call.ArgumentsJson.Length - position)) }, null), null));
            }
        }

        chunks.Add(Chunk(request, new JsonObject(), reply.ToolCalls.Count > 0 ? "tool_calls" : "stop"));
        if (request.IncludeUsage && !reply.NoUsage)
        {
            var usageChunk = Chunk(request, new JsonObject(), null);
            usageChunk["choices"] = new JsonArray();
            usageChunk["usage"] = Usage(usage, reply.ReasoningTokens);
            chunks.Add(usageChunk);
        }

        var sent = 0;
        foreach (var chunk in chunks)
        {
            if (reply.EndAfterChunks is { } end && sent >= end)
            {
                return;
            }

            if (reply.BreakAfterChunks is { } limit && sent >= limit)
            {
                await context.Response.Body.FlushAsync();

                // A reset discards data the client has not read yet; give it time to read what was sent.
                await Task.Delay(200);
                context.Abort();
                return;
            }

            await context.Response.WriteAsync("data: " + chunk.ToJsonString() + "\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            sent++;
            if (reply.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(reply.ChunkDelay, context.RequestAborted);
            }
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", context.RequestAborted);
    }

    static JsonObject ToolDelta(int index, JsonObject function, string? id)
    {
        var call = new JsonObject { ["index"] = index, ["function"] = function };
        if (id is not null)
        {
            call["id"] = id;
            call["type"] = "function";
        }

        return new JsonObject { ["tool_calls"] = new JsonArray(call) };
    }

    static JsonObject Chunk(RecordedRequest request, JsonObject delta, string? finishReason) => new()
    {
        ["id"] = "chatcmpl-fake",
        ["object"] = "chat.completion.chunk",
        ["created"] = 1_700_000_000,
        ["model"] = request.Model ?? "fake-model",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
    };

    static JsonObject Usage((int Prompt, int Completion) usage, int? reasoning)
    {
        var reported = new JsonObject
        {
            ["prompt_tokens"] = usage.Prompt,
            ["completion_tokens"] = usage.Completion,
            ["total_tokens"] = usage.Prompt + usage.Completion,
        };
        if (reasoning is { } tokens)
        {
            reported["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = tokens };
        }
        return reported;
    }

    static int Words(string text) => text.Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    sealed class Rule(Func<RecordedRequest, bool> match, FakeReply reply, int times)
    {
        public Func<RecordedRequest, bool> Match { get; } = match;

        public FakeReply Reply { get; } = reply;

        public int Remaining { get; set; } = times;
    }
}

/// <summary>A chat completion request as the fake server received it.</summary>
/// <param name="Body">The JSON body.</param>
/// <param name="Authorization">The Authorization header.</param>
public sealed record RecordedRequest(JsonElement Body, string Authorization)
{
    /// <summary>The requested model.</summary>
    public string? Model => Body.TryGetProperty("model", out var model) ? model.GetString() : null;

    /// <summary>True for streaming requests.</summary>
    public bool Stream => Body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;

    /// <summary>True when a streaming request asked for usage (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage => Body.TryGetProperty("stream_options", out var options) && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;

    /// <summary>The messages as (role, text).</summary>
    public IReadOnlyList<(string Role, string Text)> Messages => Body.TryGetProperty("messages", out var messages)
        ? [.. messages.EnumerateArray().Select(message => (message.GetProperty("role").GetString() ?? "", Content(message)))]
        : [];

    /// <summary>Every message text joined by newlines: what rules match against.</summary>
    public string Prompt => string.Join("\n", Messages.Select(message => message.Text));

    /// <summary>The system message, if any.</summary>
    public string? System => Messages.FirstOrDefault(message => message.Role == "system").Text;

    /// <summary>The last user message.</summary>
    public string? LastUser => Messages.LastOrDefault(message => message.Role == "user").Text;

    /// <summary>The <c>response_format</c>, if any.</summary>
    public JsonElement? ResponseFormat => Body.TryGetProperty("response_format", out var format) ? format : null;

    /// <summary>The names of the tools offered.</summary>
    public IReadOnlyList<string> ToolNames => Body.TryGetProperty("tools", out var tools)
        ? [.. tools.EnumerateArray().Select(tool => tool.GetProperty("function").GetProperty("name").GetString() ?? "")]
        : [];

    static string Content(JsonElement message)
    {
        if (!message.TryGetProperty("content", out var content))
        {
            return "";
        }

        return content.ValueKind switch
        {
            JsonValueKind.String => content.GetString() ?? "",
            JsonValueKind.Array => string.Concat(content.EnumerateArray().Select(part => part.TryGetProperty("text", out var text) ? text.GetString() : "")),
            _ => "",
        };
    }
}
