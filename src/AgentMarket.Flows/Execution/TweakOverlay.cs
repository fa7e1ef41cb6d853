using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Values;

namespace AgentMarket.Flows.Execution;

/// <summary>
/// A run's tweaks as a sparse overlay on the shared plan: (node, binding) → value. Nothing in the plan is copied
/// or mutated, so concurrent runs with different tweaks cannot see each other's values (Langflow #4422).
/// Rules of format §5: object values address one node by id, else by display name (the last such node);
/// non-object values are global; object field values set field attributes; <c>code</c> is never tweakable;
/// fields the node's template lacks are ignored; the implicit <c>stream</c> tweak applies unless given.
/// </summary>
internal sealed class TweakOverlay
{
    public static readonly TweakOverlay Empty = new();

    readonly Dictionary<long, Override> _overrides = [];

    public bool IsEmpty => _overrides.Count == 0;

    /// <summary>The global-variable names the tweaks introduced (resolved with the plan's own at run start).</summary>
    public List<string> SecretNames { get; } = [];

    public bool TryGet(int node, int binding, out Override value) => _overrides.TryGetValue(Key(node, binding), out value);

    static long Key(int node, int binding) => ((long)node << 32) | (uint)binding;

    public static TweakOverlay Build(ExecutionPlan plan, JsonElement? tweaks, bool stream)
    {
        var overlay = new TweakOverlay();
        var hasStream = false;
        if (tweaks is { ValueKind: JsonValueKind.Object } tweakObject)
        {
            foreach (var tweak in tweakObject.EnumerateObject())
            {
                if (tweak.Value.ValueKind == JsonValueKind.Object)
                {
                    if (FindNode(plan, tweak.Name) is { } node)
                    {
                        foreach (var field in tweak.Value.EnumerateObject())
                        {
                            overlay.Apply(node, field.Name, field.Value);
                        }
                    }

                    continue;
                }

                hasStream |= tweak.Name == "stream";
                overlay.ApplyGlobal(plan, tweak.Name, tweak.Value);
            }
        }

        if (!hasStream && plan.NodesByFieldName.ContainsKey("stream"))
        {
            overlay.ApplyGlobal(plan, "stream", stream ? JsonValues.Parse("true") : JsonValues.Parse("false"));
        }

        return overlay;
    }

    /// <summary>
    /// Langflow answers 400 when the request sets input_value for chat (or text) inputs and a tweak keyed like the
    /// same input type also sets input_value (format §5 rule 5).
    /// </summary>
    public static string? Conflict(RunRequest request)
    {
        if (request.InputValue is null || request.Tweaks is not { ValueKind: JsonValueKind.Object } tweaks)
        {
            return null;
        }

        var (idName, displayName) = request.InputType switch
        {
            "chat" => ("ChatInput", "Chat Input"),
            "text" => ("TextInput", "Text Input"),
            _ => ((string?)null, (string?)null),
        };
        if (idName is null || displayName is null)
        {
            return null;
        }

        foreach (var tweak in tweaks.EnumerateObject())
        {
            if ((tweak.Name.Contains(idName, StringComparison.Ordinal) || tweak.Name.Contains(displayName, StringComparison.Ordinal)) &&
                tweak.Value.ValueKind == JsonValueKind.Object && tweak.Value.TryGetProperty("input_value", out _))
            {
                return $"If you pass an input_value to the {request.InputType} input, you cannot pass a tweak with the same name.";
            }
        }

        return null;
    }

    static PlanNode? FindNode(ExecutionPlan plan, string key)
    {
        if (plan.NodeIndexById.TryGetValue(key, out var byId))
        {
            return plan.Nodes[byId];
        }

        return plan.LastNodeIndexByDisplayName.TryGetValue(key, out var byName) ? plan.Nodes[byName] : null;
    }

    void ApplyGlobal(ExecutionPlan plan, string field, JsonElement value)
    {
        if (plan.NodesByFieldName.TryGetValue(field, out var nodes))
        {
            foreach (var node in nodes)
            {
                Apply(plan.Nodes[node], field, value);
            }
        }
    }

    void Apply(PlanNode node, string fieldName, JsonElement value)
    {
        if (fieldName == "code" || !node.BindingIndexByName.TryGetValue(fieldName, out var bindingIndex))
        {
            return;
        }

        var binding = node.Bindings[bindingIndex];
        if (binding.Field is not { Show: true } field)
        {
            // Only fields present in the template, and shown, are passed to a component (format §1.3, §5 rule 2).
            return;
        }

        var current = _overrides.TryGetValue(Key(node.Index, bindingIndex), out var existing) ? existing : Override.From(field);
        JsonElement newValue = current.RawValue;
        var loadFromDb = current.LoadFromDb;
        JsonElement? filePath = current.FilePath;
        var isFile = field.Type == "file";
        if (field.Type is "NestedDict" or "mcp" || value.ValueKind != JsonValueKind.Object)
        {
            if (isFile)
            {
                filePath = value;
            }
            else
            {
                newValue = value;
            }
        }
        else
        {
            foreach (var attribute in value.EnumerateObject())
            {
                switch (attribute.Name)
                {
                    case "value" when isFile:
                    case "file_path":
                        filePath = attribute.Value;
                        break;
                    case "value":
                        newValue = attribute.Value;
                        break;
                    case "load_from_db":
                        loadFromDb = attribute.Value.ValueKind == JsonValueKind.True;
                        break;
                }
            }
        }

        var secret = loadFromDb && newValue.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(newValue.GetString())
            ? newValue.GetString()
            : null;
        if (secret is not null && !SecretNames.Contains(secret))
        {
            SecretNames.Add(secret);
        }

        var converted = secret is null ? FieldValues.Convert(field.Type, newValue, filePath) ?? binding.Spec?.Default : null;
        _overrides[Key(node.Index, bindingIndex)] = new Override(newValue, loadFromDb, filePath, converted, secret);
    }

    /// <summary>A tweaked field: its raw attributes and the value a component reads (or the secret to resolve).</summary>
    internal readonly record struct Override(JsonElement RawValue, bool LoadFromDb, JsonElement? FilePath, object? Value, string? SecretName)
    {
        public static Override From(Loading.FieldDefinition field) => new(field.Value, field.LoadFromDb, field.FilePath, null, null);
    }
}
