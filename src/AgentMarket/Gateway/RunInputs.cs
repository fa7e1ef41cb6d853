using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Flows.Services;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Gateway;

/// <summary>One earlier turn of a conversation a client resends: who spoke (<see cref="MessageSenders"/>) and what.</summary>
public sealed record ConversationTurn(string Sender, string Text)
{
    /// <summary>
    /// Session memory holding exactly <paramref name="history"/>: what a Memory or Agent node reads as the session's
    /// history. It lives for one run; what the run saves is forgotten with it.
    /// </summary>
    internal static async ValueTask<IMessageStore> MemoryAsync(IReadOnlyList<ConversationTurn> history, string sessionId, TimeProvider clock, CancellationToken ct)
    {
        var memory = new InMemoryMessageStore();
        // Memory reads order by timestamp: one second apart, ending a second before now, keeps the turns in order.
        var first = clock.GetUtcNow().AddSeconds(-history.Count - 1);
        for (var i = 0; i < history.Count; i++)
        {
            var turn = history[i];
            await memory.SaveAsync(new Message
            {
                Text = turn.Text,
                Sender = turn.Sender,
                SenderName = turn.Sender == MessageSenders.User ? "User" : "AI",
                SessionId = sessionId,
                Timestamp = first.AddSeconds(i),
            }, "history", ct);
        }
        return memory;
    }
}

/// <summary>Turns a door's values for named input nodes into tweaks, without ever overriding a declared field.</summary>
static class NodeInputTweaks
{
    /// <summary>The field of each input component that holds its input.</summary>
    static readonly Dictionary<string, string> InputField = new(StringComparer.Ordinal)
    {
        ["TextInput"] = "input_value",
        ["Webhook"] = "data",
    };

    public static JsonElement Add(JsonElement configured, CompatibilityReport flow, IReadOnlyDictionary<string, string> inputs)
    {
        var tweaks = JsonNode.Parse(configured.GetRawText()) as JsonObject ?? [];
        foreach (var node in flow.Nodes)
        {
            if (!node.RunsViaApi || node.Component is null || !InputField.TryGetValue(node.Component, out var field)
                || !inputs.TryGetValue(node.Id, out var value))
            {
                continue;
            }
            if (tweaks[node.Id] is not JsonObject nodeTweaks)
            {
                nodeTweaks = [];
                tweaks[node.Id] = nodeTweaks;
            }
            if (!nodeTweaks.ContainsKey(field))
            {
                nodeTweaks[field] = value;
            }
        }
        return JsonSerializer.SerializeToElement(tweaks);
    }
}
