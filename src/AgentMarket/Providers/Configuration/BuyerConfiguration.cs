using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AgentMarket.Providers.Configuration;

/// <summary>
/// Turns a buyer's configuration into flow tweaks (Langflow format §5) through the provider's declared fields only:
/// the result is built by walking the declarations, so a key the provider did not declare cannot reach the flow.
/// </summary>
public static class BuyerConfiguration
{
    /// <summary>Problems with a buyer's values: undeclared keys, wrong JSON types, values outside a choice.</summary>
    public static List<(string Key, string Message)> Problems(IReadOnlyCollection<ConfigurableField> fields, IReadOnlyDictionary<string, JsonElement> values)
    {
        var problems = new List<(string, string)>();
        foreach (var (key, value) in values)
        {
            var field = fields.FirstOrDefault(f => f.Key == key);
            if (field is null)
            {
                problems.Add((key, "This agent has no such setting."));
            }
            else if (Problem(field, value) is { } problem)
            {
                problems.Add((key, problem));
            }
        }
        return problems;
    }

    /// <summary>
    /// <c>{node_id: {field_name: value}}</c> for every declared field, with the buyer's value when valid, else the
    /// provider's default; fields with neither are left out so the flow keeps its own value.
    /// </summary>
    public static JsonObject ToTweaks(IEnumerable<ConfigurableField> fields, IReadOnlyDictionary<string, JsonElement> values)
    {
        var tweaks = new JsonObject();
        foreach (var field in fields.OrderBy(f => f.SortOrder))
        {
            var value = values.TryGetValue(field.Key, out var given) && Problem(field, given) is null
                ? JsonNode.Parse(given.GetRawText())
                : DefaultNode(field);
            if (value is null)
            {
                continue;
            }
            if (tweaks[field.NodeId] is not JsonObject node)
            {
                node = [];
                tweaks[field.NodeId] = node;
            }
            node[field.FieldName] = value;
        }
        return tweaks;
    }

    static string? Problem(ConfigurableField field, JsonElement value) => field.Kind switch
    {
        ConfigurableFieldKind.Number => value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number) ? "Expected a number."
            : ConfigurableFieldRules.OutOfRange(number, field.Minimum, field.Maximum),
        ConfigurableFieldKind.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : "Expected true or false.",
        ConfigurableFieldKind.Text or ConfigurableFieldKind.LongText or ConfigurableFieldKind.Choice or ConfigurableFieldKind.KnowledgeBase =>
            value.ValueKind != JsonValueKind.String ? "Expected text." : ConfigurableFieldRules.ValueProblem(field.Kind == ConfigurableFieldKind.KnowledgeBase ? ConfigurableFieldKind.Text : field.Kind, value.GetString(), field.Options),
    };

    static JsonValue? DefaultNode(ConfigurableField field) => field.DefaultValue switch
    {
        null => null,
        var text => field.Kind switch
        {
            ConfigurableFieldKind.Number => JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture)),
            ConfigurableFieldKind.Boolean => JsonValue.Create(text == "true"),
            _ => JsonValue.Create(text),
        },
    };
}
