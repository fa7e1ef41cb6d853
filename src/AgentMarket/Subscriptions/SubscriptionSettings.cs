using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Providers.Configuration;

namespace AgentMarket.Subscriptions;

/// <summary>
/// A subscription's values for the provider's declared fields. Persona settings are declared fields with well-known
/// keys; whatever the buyer sets reaches the flow only through <see cref="BuyerConfiguration.ToTweaks"/>, which walks the
/// declarations, so an undeclared key can never become a tweak.
/// </summary>
public static class SubscriptionSettings
{
    /// <summary>The persona tab's fields, by the keys a provider declares them with.</summary>
    public static readonly IReadOnlyList<string> PersonaKeys = ["agent_name", "greeting", "system_prompt", "tone", "language", "behaviour_rules"];

    public static Dictionary<string, JsonElement> Parse(string json) =>
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(string.IsNullOrWhiteSpace(json) ? "{}" : json) ?? [];

    public static string Serialize(IReadOnlyDictionary<string, JsonElement> values) => JsonSerializer.Serialize(values);

    /// <summary>
    /// The flow tweaks of a subscription: the declared fields' values (the buyer's, else the provider's defaults), and
    /// the buyer's knowledge base for a declared knowledge-base field.
    /// </summary>
    public static JsonElement Tweaks(IReadOnlyCollection<ConfigurableField> fields, IReadOnlyDictionary<string, JsonElement> values, Guid? knowledgeBase)
    {
        var effective = new Dictionary<string, JsonElement>(values, StringComparer.Ordinal);
        if (knowledgeBase is { } id)
        {
            foreach (var field in fields.Where(f => f.Kind == ConfigurableFieldKind.KnowledgeBase))
            {
                effective[field.Key] = JsonSerializer.SerializeToElement(id.ToString());
            }
        }
        JsonObject tweaks = BuyerConfiguration.ToTweaks(fields, effective);
        return JsonSerializer.SerializeToElement(tweaks);
    }
}
