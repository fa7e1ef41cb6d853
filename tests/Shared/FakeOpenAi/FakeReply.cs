namespace AgentMarket.Testing.FakeOpenAi;

/// <summary>What the fake server answers to a matching request.</summary>
public sealed record FakeReply
{
    /// <summary>The assistant's text.</summary>
    public string? Text { get; init; }

    /// <summary>Tool calls the assistant makes instead of (or besides) answering.</summary>
    public IReadOnlyList<FakeToolCall> ToolCalls { get; init; } = [];

    /// <summary>An HTTP status other than 200 injects an error (429, 500…); the body is an OpenAI error object.</summary>
    public int Status { get; init; } = 200;

    /// <summary>With an error <see cref="Status"/>: the <c>Retry-After</c> header to send, in whole seconds.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>Delay before the answer starts (and between streamed chunks, see <see cref="ChunkDelay"/>).</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>The answer waits until this task completes (or the request is aborted): a run held in flight for as long as a test needs.</summary>
    public Task? Gate { get; init; }

    /// <summary>Delay between streamed chunks.</summary>
    public TimeSpan ChunkDelay { get; init; }

    /// <summary>Characters per streamed content chunk.</summary>
    public int ChunkSize { get; init; } = 4;

    /// <summary>Characters per streamed piece of a tool call's arguments; null sends each call's arguments in two halves.</summary>
    public int? ArgumentChunkSize { get; init; }

    /// <summary>Streaming only: end the response cleanly after this many chunks, with no finish reason and no <c>[DONE]</c>.</summary>
    public int? EndAfterChunks { get; init; }

    /// <summary>Streaming only: stop after this many chunks and drop the connection (a broken stream).</summary>
    public int? BreakAfterChunks { get; init; }

    /// <summary>Usage to report; null counts words of the prompt and the answer.</summary>
    public (int Prompt, int Completion)? Usage { get; init; }

    /// <summary>Prompt tokens counted from the request instead of <see cref="Usage"/>'s: an endpoint reporting what it was really sent.</summary>
    public Func<RecordedRequest, int>? PromptTokens { get; init; }

    /// <summary>Hidden reasoning tokens within the completion count (<c>completion_tokens_details.reasoning_tokens</c>), as reasoning models report.</summary>
    public int? ReasoningTokens { get; init; }

    /// <summary>Report no usage at all, as some OpenAI-compatible servers do.</summary>
    public bool NoUsage { get; init; }

    /// <summary>A plain text answer.</summary>
    public static FakeReply Say(string text) => new() { Text = text };

    /// <summary>One tool call.</summary>
    public static FakeReply Call(string name, string argumentsJson, string id = "call_1") =>
        new() { ToolCalls = [new FakeToolCall(id, name, argumentsJson)] };

    /// <summary>An error status.</summary>
    public static FakeReply Fail(int status) => new() { Status = status };
}

/// <summary>A tool call in a fake answer.</summary>
/// <param name="Id">Call id.</param>
/// <param name="Name">Function name.</param>
/// <param name="ArgumentsJson">Arguments as JSON text.</param>
public sealed record FakeToolCall(string Id, string Name, string ArgumentsJson);
