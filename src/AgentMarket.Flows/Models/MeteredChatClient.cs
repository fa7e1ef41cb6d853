using System.Runtime.CompilerServices;
using System.Text.Json;
using AgentMarket.Flows.Execution;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Models;

/// <summary>
/// Wraps the host's client for one node execution: counts model calls against the run's limit, takes token usage
/// from the responses into the node's run record, and turns endpoint failures into stable codes: <c>model_rate_limited</c>,
/// <c>model_timeout</c>, else <c>model_error</c>.
/// Components never meter themselves, so none can forget to.
/// </summary>
internal sealed class MeteredChatClient(IChatClient inner, NodeExecution node) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        node.CountModelCall(options?.ModelId);
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken);
        }
        catch (Exception exception) when (IsEndpointFailure(exception, cancellationToken))
        {
            throw Failure(exception);
        }

        node.AddUsage(response.Usage?.InputTokenCount ?? 0, response.Usage?.OutputTokenCount ?? 0, response.ModelId, SourceOf(response.Usage));
        ChargeToolCalls(response.Messages.SelectMany(message => message.Contents));
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        node.CountModelCall(options?.ModelId);
        await using var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            ChatResponseUpdate update;
            try
            {
                if (!await updates.MoveNextAsync())
                {
                    break;
                }

                update = updates.Current;
            }
            catch (Exception exception) when (IsEndpointFailure(exception, cancellationToken))
            {
                throw Failure(exception);
            }

            foreach (var content in update.Contents)
            {
                if (content is UsageContent usage)
                {
                    node.AddUsage(usage.Details.InputTokenCount ?? 0, usage.Details.OutputTokenCount ?? 0, update.ModelId, SourceOf(usage.Details));
                }
            }

            ChargeToolCalls(update.Contents);

            yield return update;
        }
    }

    /// <summary>What the host's client said of the figures; figures no client checked are the endpoint's own.</summary>
    static UsageSource SourceOf(UsageDetails? usage) =>
        usage?.AdditionalCounts?.TryGetValue(UsageSources.Key, out var source) == true && Enum.IsDefined((UsageSource)source)
            ? (UsageSource)source
            : UsageSource.Reported;

    /// <summary>
    /// A tool call's arguments are output the model wrote, as its text is: they count toward the run's output limit, so
    /// a model looping on calls with huge arguments stops at the limit like one writing a huge answer.
    /// </summary>
    void ChargeToolCalls(IEnumerable<AIContent> contents)
    {
        foreach (var call in contents.OfType<FunctionCallContent>())
        {
            var bytes = call.Arguments is null ? 0 : JsonSerializer.SerializeToUtf8Bytes(call.Arguments).Length;
            node.Run.ChargeOutputBytes($"{node.NodeId}:tool-call:{Guid.NewGuid():N}", bytes);
        }
    }

    static bool IsEndpointFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is not (RunLimitException or FlowComponentException) &&
        !(exception is OperationCanceledException && cancellationToken.IsCancellationRequested);

    /// <summary>Says which failure it was, so callers know whether and when to retry.</summary>
    static FlowComponentException Failure(Exception exception) => exception switch
    {
        ModelEndpointException { Status: 429 } limited =>
            new(RunErrorCodes.ModelRateLimited, $"The model endpoint is rate limiting requests: {exception.Message}", exception) { RetryAfter = limited.RetryAfter },
        ModelEndpointException { TimedOut: true } => new(RunErrorCodes.ModelTimeout, $"The model endpoint failed: {exception.Message}", exception),
        _ => new(RunErrorCodes.ModelError, $"The model endpoint failed: {exception.Message}", exception),
    };
}
