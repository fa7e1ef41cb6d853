using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace AgentMarket.Runtime;

/// <summary>
/// The token usage of a model endpoint that is not the operator's (a seller's own endpoint, a buyer's own), as the
/// platform can stand behind it (ADR-164, ADR-172): variable prices charge from it, and whoever runs the endpoint writes
/// the numbers. Each call's reported counts are kept within what its text can hold: at most one token per UTF-8 byte
/// sent or received, plus the chat format's framing; at least a conservative estimate of the text (a missing usage
/// counts as zero). Hidden reasoning tokens, which no text shows, are taken up to what the call allowed
/// (<see cref="ChatOptions.MaxOutputTokens"/>) and <see cref="LlmOptions.MaxReasoningTokensPerCall"/>. The usage says
/// whether it is the endpoint's own, bounded or estimated (<see cref="UsageSources"/>). The operator's endpoint is
/// trusted: <see cref="UnreportedUsageChatClient"/> only fills in a usage it does not report.
/// </summary>
sealed class BoundedUsageChatClient(IChatClient inner, IOptionsMonitor<LlmOptions> llm) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prompt = UsageBounds.Prompt(messages, options);
        var response = await base.GetResponseAsync(messages, options, cancellationToken);
        response.Usage = UsageBounds.Bounded(response.Usage, prompt, UsageBounds.Output(response), MaxReasoning(options));
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = UsageBounds.Prompt(messages, options);
        var output = new UsageBounds.Text();
        UsageDetails? reported = null;
        string? model = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            model = update.ModelId ?? model;
            output.AddOutput(update.Contents);
            // The endpoint's figures are held back: the stream's own usage comes once, when its text is all known.
            foreach (var usage in update.Contents.OfType<UsageContent>().ToList())
            {
                (reported ??= new UsageDetails()).Add(usage.Details);
                update.Contents.Remove(usage);
            }
            yield return update;
        }
        yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageBounds.Bounded(reported, prompt, output, MaxReasoning(options)))]) { ModelId = model };
    }

    /// <summary>
    /// Reasoning tokens the call may be charged: the output it allowed (OpenAI's <c>max_completion_tokens</c> covers
    /// reasoning and answer), and never more than the operator's cap per call.
    /// </summary>
    UsageBounds.ReasoningLimit MaxReasoning(ChatOptions? options) => new(options?.MaxOutputTokens, llm.CurrentValue.MaxReasoningTokensPerCall);
}

/// <summary>
/// The token usage of the operator's endpoint, which is trusted: what it reports is taken as it is (ADR-172). Some
/// OpenAI-compatible servers report none, mostly in streams; such a call is charged the same estimate of its text as an
/// endpoint that is not trusted (<see cref="UsageBounds.Estimated"/>), not zero tokens that would run per-token prices
/// free and claim figures nobody gave.
/// </summary>
sealed class UnreportedUsageChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var response = await base.GetResponseAsync(messages, options, cancellationToken);
        response.Usage ??= UsageBounds.Estimated(UsageBounds.Prompt(messages, options), UsageBounds.Output(response));
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The usage usually comes last, so the text is counted until the stream ends in case none comes.
        var output = new UsageBounds.Text();
        var reported = false;
        string? model = null;
        await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
        {
            model = update.ModelId ?? model;
            output.AddOutput(update.Contents);
            reported |= update.Contents.Any(content => content is UsageContent);
            yield return update;
        }
        if (!reported)
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(UsageBounds.Estimated(UsageBounds.Prompt(messages, options), output))]) { ModelId = model };
        }
    }
}

/// <summary>The arithmetic of <see cref="BoundedUsageChatClient"/> and <see cref="UnreportedUsageChatClient"/>.</summary>
static class UsageBounds
{
    /// <summary>
    /// Tokens a chat template adds per message (role markers, separators): OpenAI documents 3 or 4, other templates a
    /// few more. Generous, because an honest endpoint must never be cut below what it really counted.
    /// </summary>
    const long MessageFraming = 8;

    /// <summary>Tokens the server wraps around a tool's declaration besides its name, description and schema.</summary>
    const long ToolFraming = 16;

    /// <summary>Tokens around a whole prompt (start of the reply, system preamble) and around a whole answer (its end token).</summary>
    internal const long CallFraming = 16;

    /// <summary>Characters per token of the floor: the usual figure for English with OpenAI's tokenizers, rounded up.</summary>
    const long CharactersPerToken = 4;

    /// <summary>Counted text: UTF-16 characters (for the floor), UTF-8 bytes and the framing tokens around its parts (for the ceiling).</summary>
    public sealed class Text
    {
        public long Characters { get; private set; }
        public long Bytes { get; private set; }
        public long Framing { get; private set; }

        public void Add(string? text, long framing = 0)
        {
            Framing += framing;
            if (!string.IsNullOrEmpty(text))
            {
                Characters += text.Length;
                Bytes += Encoding.UTF8.GetByteCount(text);
            }
        }

        /// <summary>What the model wrote: text (reasoning it shows too) and tool calls, each call framed.</summary>
        public void AddOutput(IEnumerable<AIContent> contents)
        {
            foreach (var content in contents)
            {
                switch (content)
                {
                    case TextContent text:
                        Add(text.Text);
                        break;
                    case TextReasoningContent reasoning:
                        Add(reasoning.Text);
                        break;
                    case FunctionCallContent call:
                        Add(call.Name + JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()), MessageFraming);
                        break;
                }
            }
        }
    }

    /// <summary>What a whole response wrote (<see cref="Text.AddOutput"/>).</summary>
    public static Text Output(ChatResponse response)
    {
        var output = new Text();
        foreach (var message in response.Messages)
        {
            output.AddOutput(message.Contents);
        }
        return output;
    }

    /// <summary>What a call sends: every message's text, tool calls and results, the tools offered and a response schema.</summary>
    public static Text Prompt(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var prompt = new Text();
        prompt.Add(options?.Instructions);
        foreach (var message in messages)
        {
            prompt.Add(null, MessageFraming);
            foreach (var content in message.Contents)
            {
                switch (content)
                {
                    case TextContent text:
                        prompt.Add(text.Text);
                        break;
                    case FunctionCallContent call:
                        prompt.Add(call.CallId + call.Name + JsonSerializer.Serialize(call.Arguments ?? new Dictionary<string, object?>()));
                        break;
                    case FunctionResultContent result:
                        prompt.Add(result.CallId + (result.Result as string ?? JsonSerializer.Serialize(result.Result)));
                        break;
                }
            }
        }
        foreach (var tool in options?.Tools?.OfType<AIFunctionDeclaration>() ?? [])
        {
            prompt.Add(tool.Name + tool.Description + tool.JsonSchema.GetRawText(), ToolFraming);
        }
        if (options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema } json)
        {
            prompt.Add(json.SchemaName + json.SchemaDescription + schema.GetRawText());
        }
        return prompt;
    }

    /// <summary>What a call allowed its model to write (null: no limit sent), and the operator's cap on hidden reasoning per call.</summary>
    public readonly record struct ReasoningLimit(int? MaxOutputTokens, long Cap)
    {
        /// <summary>Reasoning tokens allowed beside <paramref name="written"/> tokens of answer.</summary>
        public long For(long written) => Math.Max(0, Math.Min(Cap, MaxOutputTokens is { } max ? max - written : Cap));
    }

    /// <summary>
    /// The reported counts held within the text: a byte-level tokenizer (OpenAI's, Llama 3's) never makes a token of less
    /// than one byte, and a character-level one falls back to single bytes, so bytes bound tokens where characters do not
    /// (one CJK character or emoji can be several tokens). Hidden reasoning tokens are not in the text: the output count
    /// includes them (OpenAI's <c>completion_tokens</c> does), so the written part is bounded by the answer's text and the
    /// reasoning part by <paramref name="reasoning"/>. The result says whether the counts are the endpoint's own, bounded,
    /// or estimated because it reported none.
    /// </summary>
    public static UsageDetails Bounded(UsageDetails? reported, Text prompt, Text output, ReasoningLimit reasoning)
    {
        if (reported is null)
        {
            return Estimated(prompt, output);
        }
        var claimedInput = reported.InputTokenCount ?? 0;
        var claimedOutput = reported.OutputTokenCount ?? 0;
        var claimedReasoning = reported.ReasoningTokenCount ?? 0;
        var input = Math.Clamp(claimedInput, Floor(prompt), prompt.Bytes + prompt.Framing + CallFraming);
        var written = Math.Clamp(claimedOutput - Math.Clamp(claimedReasoning, 0, Math.Max(claimedOutput, 0)), Floor(output), output.Bytes + output.Framing + CallFraming);
        var thought = Math.Clamp(claimedReasoning, 0, reasoning.For(written));
        var source = (input, written + thought, thought) == (claimedInput, claimedOutput, claimedReasoning) ? UsageSource.Reported : UsageSource.Bounded;
        return Usage(input, written, thought, source);
    }

    /// <summary>
    /// The usage of a call whose endpoint reported none: the floor of its text, which no tokenizer goes below, and no
    /// hidden reasoning, which no text shows.
    /// </summary>
    public static UsageDetails Estimated(Text prompt, Text output) => Usage(Floor(prompt), Floor(output), 0, UsageSource.Estimated);

    static UsageDetails Usage(long input, long written, long thought, UsageSource source) => new()
    {
        InputTokenCount = input,
        OutputTokenCount = written + thought,
        ReasoningTokenCount = thought,
        TotalTokenCount = input + written + thought,
        AdditionalCounts = new() { [UsageSources.Key] = (long)source },
    };

    static long Floor(Text text) => (text.Characters + CharactersPerToken - 1) / CharactersPerToken;
}
