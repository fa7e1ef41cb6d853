using System.Text;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Values;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Components.Models;

/// <summary>
/// Language Model and OpenAI Model (format §4.4): one chat completion, the system message first, the input as the
/// human turn. When the run streams and the node feeds an output node, the node creates the AI message itself,
/// stores it on the first chunk (<c>add_message</c>) and emits the rest as <c>token</c> events.
/// </summary>
internal sealed class LanguageModelComponent : Component
{
    static readonly ModelInputs ModelFields = new();
    static readonly InputSpec InputValue = new("input_value", InputKind.Message);
    static readonly InputSpec SystemMessage = new("system_message", InputKind.Text, "");
    static readonly InputSpec Stream = new("stream", InputKind.Bool, false);
    static readonly OutputSpec TextOutput = new("text_output", "Message");
    static readonly OutputSpec ModelOutput = new("model_output", "LanguageModel");

    public override ComponentSpec Spec { get; } = new(
        "LanguageModel",
        typeNames: ["LanguageModelComponent", "OpenAIModel"],
        classNames: ["LanguageModelComponent", "OpenAIModelComponent"],
        inputs: [.. ModelFields.All, InputValue, SystemMessage, Stream],
        outputs: [TextOutput, ModelOutput]);

    public override object? Prepare(NodeSetup node)
    {
        ModelFields.Describe(node);
        return null;
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var settings = ModelFields.Read(node);
        if (node.IsRequested(ModelOutput))
        {
            node.Set(ModelOutput, new LanguageModelValue(settings));
        }

        if (!node.IsRequested(TextOutput))
        {
            return;
        }

        var system = node.Text(SystemMessage);
        var input = TextConversion.AsText(node.Value(InputValue));
        if (system.Length == 0 && input.Length == 0)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "The message you want to send to the model is empty.");
        }

        List<ChatMessage> messages = [];
        if (system.Length > 0)
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        if (input.Length > 0)
        {
            messages.Add(new ChatMessage(ChatRole.User, input));
        }

        var client = node.ChatClient(settings);
        var options = Options(settings);
        var source = new MessageSource(node.NodeId, node.DisplayName, AnsweringModel(client, settings));
        if (node.Streaming && node.Node.StreamsToOutput && node.Bool(Stream))
        {
            node.Set(TextOutput, await StreamAsync(node, client, messages, options, source));
            return;
        }

        var response = await client.GetResponseAsync(messages, options, node.Cancellation);
        node.Set(TextOutput, node.NewMessage(response.Text) with
        {
            Properties = new MessageProperties { Source = source with { Source = source.Source ?? response.ModelId } },
        });
    }

    /// <summary>
    /// The model the client calls, which names the message's source: the host may serve another model than the flow
    /// names (an operator's endpoint serves only its own models), and the message should not claim the flow's.
    /// </summary>
    internal static string? AnsweringModel(IChatClient client, ModelSettings settings) =>
        client.GetService<ChatClientMetadata>()?.DefaultModelId ?? settings.Model;

    internal static ChatOptions Options(ModelSettings settings) => new()
    {
        ModelId = settings.Model,
        Temperature = settings.Temperature,
        MaxOutputTokens = settings.MaxTokens,
        Seed = settings.Seed,
        ResponseFormat = settings.JsonMode ? ChatResponseFormat.Json : null,
    };

    static async Task<Message> StreamAsync(NodeExecution node, IChatClient client, List<ChatMessage> messages, ChatOptions options, MessageSource source)
    {
        var message = node.NewMessage("") with
        {
            Sender = MessageSenders.Machine,
            SenderName = "AI",
            SessionId = node.SessionId,
            Properties = new MessageProperties { Source = source, State = "partial", Icon = "bot" },
        };
        var text = new StringBuilder();
        long bytes = 0;
        string? id = null;
        var stored = false;
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(messages, options, node.Cancellation))
            {
                var chunk = update.Text;
                if (string.IsNullOrEmpty(chunk))
                {
                    continue;
                }

                text.Append(chunk);
                if (id is null)
                {
                    message = message with { Text = chunk };
                    if (message.SessionId.Length > 0)
                    {
                        message = await node.StoreMessageAsync(message, announce: true);
                        stored = true;
                    }
                    else
                    {
                        message = message with { Id = Guid.NewGuid().ToString() };
                        await node.EmitAsync(new MessageAdded(message));
                    }

                    id = message.Id!;
                }
                else
                {
                    await node.EmitAsync(new TokenEmitted(id, chunk));
                }

                bytes += Encoding.UTF8.GetByteCount(chunk);
                node.Run.ChargeOutputBytes(id, bytes);
            }
        }
        catch (Exception) when (stored)
        {
            // The answer broke off (the endpoint failed, a limit or the run's end stopped it): its first chunk is in session
            // memory already. Marked as an error, the truncated turn is kept for the record but never read back as history.
            await node.Services.Messages.SaveAsync(message with
            {
                Text = text.ToString(),
                Error = true,
                Properties = message.Properties with { State = "error" },
            }, node.RunId, CancellationToken.None);
            throw;
        }

        message = message with
        {
            Text = text.ToString(),
            Properties = message.Properties with { State = "complete" },
        };
        if (stored)
        {
            message = await node.Services.Messages.SaveAsync(message, node.RunId, node.Cancellation);
        }

        return message;
    }
}
