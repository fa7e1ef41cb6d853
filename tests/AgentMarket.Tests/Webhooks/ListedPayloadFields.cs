using System.Text.Json;
using AgentMarket.Webhooks;

namespace AgentMarket.Tests.Webhooks;

/// <summary>
/// Holds an event's <c>data</c> to the fields its type lists (<see cref="WebhookEventType.Fields"/>, what the settings
/// page and <c>GET /api/webhook-event-types/</c> show): a field the payload carries that is not listed, or a listed field
/// it does not carry, fails. Fields of an object are <c>object.field</c>; null values are written, so every field shows.
/// </summary>
public static class ListedPayloadFields
{
    public static void AssertListed(string type, JsonElement data)
    {
        var listed = Assert.Single(WebhookEventTypes.All, t => t.Name == type).Fields.Select(f => f.Name).Order(StringComparer.Ordinal).ToArray();
        var carried = Paths(data, "").Order(StringComparer.Ordinal).ToArray();
        Assert.True(listed.SequenceEqual(carried),
            $"{type}: the payload carries {string.Join(", ", carried)}; its type lists {string.Join(", ", listed)}");
    }

    public static void AssertListed(string type, string payload) => AssertListed(type, JsonDocument.Parse(payload).RootElement);

    static IEnumerable<string> Paths(JsonElement data, string prefix)
    {
        foreach (var field in data.EnumerateObject())
        {
            yield return prefix + field.Name;
            if (field.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (var inner in Paths(field.Value, $"{prefix}{field.Name}."))
                {
                    yield return inner;
                }
            }
        }
    }
}
