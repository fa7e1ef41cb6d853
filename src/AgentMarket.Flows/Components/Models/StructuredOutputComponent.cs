using System.Collections.Immutable;
using System.Text.Json;
using AgentMarket.Flows.Compilation;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Validation;
using AgentMarket.Flows.Values;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Components.Models;

/// <summary>
/// Structured Output (format §4.8): asks the model for JSON matching the schema built from the
/// <c>output_schema</c> table (<c>{"objects": [ {field: type} ]}</c>, as Langflow builds it), then validates every
/// object against it. One object becomes the Data, several become <c>{"results": […]}</c>; the table has a row each.
/// </summary>
internal sealed class StructuredOutputComponent : Component
{
    const string DefaultSystemPrompt =
        "You are an AI that extracts structured JSON objects from unstructured text. Use a predefined schema with expected types " +
        "(str, int, float, bool, dict). Extract ALL relevant instances that match the schema - if multiple patterns exist, capture " +
        "them all. Fill missing or ambiguous values with defaults: null for missing values. Remove exact duplicates but keep " +
        "variations that have different field values. Always return valid JSON in the expected format, never throw errors. If " +
        "multiple objects can be extracted, return them all in the structured format.";

    static readonly ModelInputs ModelFields = new();
    static readonly InputSpec InputValue = new("input_value", InputKind.Text, "");
    static readonly InputSpec SystemPrompt = new("system_prompt", InputKind.Text, DefaultSystemPrompt);
    static readonly InputSpec SchemaName = new("schema_name", InputKind.Text, "");
    static readonly InputSpec OutputSchema = new("output_schema", InputKind.Json, JsonValues.Parse("""[{"name":"field","description":"description of field","type":"str","multiple":"False"}]"""));
    static readonly OutputSpec StructuredOutput = new("structured_output", "Data");
    static readonly OutputSpec DataFrameOutput = new("dataframe_output", "DataFrame");

    public override ComponentSpec Spec { get; } = new(
        "StructuredOutput",
        typeNames: ["StructuredOutput"],
        classNames: ["StructuredOutputComponent"],
        inputs: [.. ModelFields.All, InputValue, SystemPrompt, SchemaName, OutputSchema],
        outputs: [StructuredOutput, DataFrameOutput]);

    public override object? Prepare(NodeSetup node)
    {
        ModelFields.Describe(node, Capabilities.JsonOutput);
        try
        {
            return OutputSchemaDefinition.Parse(node.ConstantJson(OutputSchema));
        }
        catch (FlowComponentException exception)
        {
            node.Report(ReportIssue.Error(IssueCodes.MissingRequiredInput, $"\"{node.NodeId}\": {exception.Message}", node.NodeId, OutputSchema.Name));
            return null;
        }
    }

    public override async ValueTask ExecuteAsync(NodeExecution node)
    {
        var schema = node.HasRuntimeValue(OutputSchema) || node.Prepared<OutputSchemaDefinition>() is null
            ? OutputSchemaDefinition.Parse(node.Json(OutputSchema))
            : node.Prepared<OutputSchemaDefinition>()!;
        var settings = ModelFields.Read(node);
        var schemaName = node.Text(SchemaName) is { Length: > 0 } name ? name : "OutputModel";
        List<ChatMessage> messages = [];
        if (node.Text(SystemPrompt) is { Length: > 0 } system)
        {
            messages.Add(new ChatMessage(ChatRole.System, system));
        }

        messages.Add(new ChatMessage(ChatRole.User, node.Text(InputValue)));
        var options = LanguageModelComponent.Options(settings);
        options.ResponseFormat = ChatResponseFormat.ForJsonSchema(schema.JsonSchema(schemaName), schemaName, $"A list of {schemaName}.");
        var response = await node.ChatClient(settings).GetResponseAsync(messages, options, node.Cancellation);
        var objects = schema.Validate(response.Text);
        if (node.IsRequested(StructuredOutput))
        {
            node.Set(StructuredOutput, objects.Length == 1
                ? new Data(objects[0])
                : new Data(JsonValues.Object([new("results", JsonValues.Array(objects))])));
        }

        if (node.IsRequested(DataFrameOutput))
        {
            node.Set(DataFrameOutput, new DataFrame([.. objects.Select(item => new Data(item))]));
        }
    }
}

/// <summary>The <c>output_schema</c> table: field name, type (str, int, float, bool, dict) and "As List".</summary>
internal sealed class OutputSchemaDefinition
{
    static readonly string[] RootRequired = ["objects"];
    static readonly string[] NullableArray = ["array", "null"];

    OutputSchemaDefinition(ImmutableArray<Field> fields) => Fields = fields;

    public ImmutableArray<Field> Fields { get; }

    public sealed record Field(string Name, string Type, string Description, bool Multiple);

    public static OutputSchemaDefinition Parse(JsonElement? table)
    {
        if (table is not { ValueKind: JsonValueKind.Array } rows || rows.GetArrayLength() == 0)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "Output schema cannot be empty.");
        }

        var fields = ImmutableArray.CreateBuilder<Field>();
        foreach (var row in rows.EnumerateArray())
        {
            if (row.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var name = Text(row, "name", "field");
            var type = Text(row, "type", "str");
            if (type is not ("str" or "int" or "float" or "bool" or "dict"))
            {
                throw new FlowComponentException(RunErrorCodes.ComponentError, $"Output schema field \"{name}\" has the unknown type \"{type}\" (use str, int, float, bool or dict).");
            }

            var multiple = row.TryGetProperty("multiple", out var flag) &&
                           (flag.ValueKind == JsonValueKind.True || (flag.ValueKind == JsonValueKind.String && flag.GetString()?.ToLowerInvariant() is "true" or "1" or "t" or "y" or "yes"));
            fields.Add(new Field(name, type, Text(row, "description", ""), multiple));
        }

        if (fields.Count == 0)
        {
            throw new FlowComponentException(RunErrorCodes.ComponentError, "Output schema cannot be empty.");
        }

        return new OutputSchemaDefinition(fields.ToImmutable());
    }

    static string Text(JsonElement row, string key, string fallback) =>
        row.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : fallback;

    /// <summary>The JSON schema sent as the response format: a list of objects, every field present and nullable.</summary>
    public JsonElement JsonSchema(string schemaName)
    {
        var properties = Fields.Select(field =>
        {
            var itemSchema = JsonTypeSchema(field.Type);
            var schema = field.Multiple
                ? new Dictionary<string, object?> { ["type"] = NullableArray, ["items"] = itemSchema }
                : new Dictionary<string, object?> { ["type"] = new[] { (string)itemSchema["type"]!, "null" } };
            schema["description"] = field.Description;
            return new KeyValuePair<string, object?>(field.Name, schema);
        }).ToList();
        var item = new Dictionary<string, object?>
        {
            ["type"] = "object",
            ["properties"] = properties,
            ["required"] = Fields.Select(field => field.Name).ToArray(),
        };
        var root = new Dictionary<string, object?>
        {
            ["type"] = "object",
            ["properties"] = new Dictionary<string, object?>
            {
                ["objects"] = new Dictionary<string, object?> { ["type"] = "array", ["description"] = $"A list of {schemaName}.", ["items"] = item },
            },
            ["required"] = RootRequired,
        };
        return JsonValues.From(root);
    }

    static Dictionary<string, object?> JsonTypeSchema(string type) => new()
    {
        ["type"] = type switch
        {
            "int" => "integer",
            "float" => "number",
            "bool" => "boolean",
            "dict" => "object",
            _ => "string",
        },
    };

    /// <summary>
    /// Reads the model's answer (a JSON object with <c>objects</c>, a bare list, or one object; code fences
    /// tolerated) and checks each object's fields. Missing fields become null, as the instructions ask.
    /// </summary>
    public ImmutableArray<JsonElement> Validate(string answer)
    {
        var text = answer.Trim();
        if (text.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = text.IndexOf('\n', StringComparison.Ordinal);
            var fence = text.LastIndexOf("```", StringComparison.Ordinal);
            text = firstLine >= 0 && fence > firstLine ? text[(firstLine + 1)..fence] : text;
        }

        JsonElement root;
        try
        {
            root = JsonValues.Parse(text);
        }
        catch (JsonException)
        {
            throw new FlowComponentException(RunErrorCodes.InvalidModelOutput, "The model did not answer with JSON.");
        }

        var items = root switch
        {
            { ValueKind: JsonValueKind.Object } when root.TryGetProperty("objects", out var list) && list.ValueKind == JsonValueKind.Array => list,
            { ValueKind: JsonValueKind.Array } => root,
            { ValueKind: JsonValueKind.Object } => JsonValues.Array([root]),
            _ => throw new FlowComponentException(RunErrorCodes.InvalidModelOutput, "The model's JSON is neither an object nor a list."),
        };
        var objects = ImmutableArray.CreateBuilder<JsonElement>();
        foreach (var item in items.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw new FlowComponentException(RunErrorCodes.InvalidModelOutput, "The model returned a list item that is not an object.");
            }

            objects.Add(JsonValues.Object(Fields.Select(field =>
                new KeyValuePair<string, JsonElement>(field.Name, Check(field, item.TryGetProperty(field.Name, out var value) ? value : JsonValues.Null)))));
        }

        if (objects.Count == 0)
        {
            throw new FlowComponentException(RunErrorCodes.InvalidModelOutput, "No structured output returned.");
        }

        return objects.ToImmutable();
    }

    static JsonElement Check(Field field, JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return value;
        }

        if (field.Multiple)
        {
            if (value.ValueKind != JsonValueKind.Array)
            {
                throw Mismatch(field, "a list");
            }

            foreach (var element in value.EnumerateArray())
            {
                CheckScalar(field, element);
            }

            return value;
        }

        CheckScalar(field, value);
        return value;
    }

    static void CheckScalar(Field field, JsonElement value)
    {
        var ok = field.Type switch
        {
            "str" => value.ValueKind == JsonValueKind.String,
            "int" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
            "float" => value.ValueKind == JsonValueKind.Number,
            "bool" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
            "dict" => value.ValueKind == JsonValueKind.Object,
            _ => false,
        };
        if (!ok && value.ValueKind != JsonValueKind.Null)
        {
            throw Mismatch(field, field.Type switch
            {
                "str" => "a string",
                "int" => "an integer",
                "float" => "a number",
                "bool" => "true or false",
                _ => "an object",
            });
        }
    }

    static FlowComponentException Mismatch(Field field, string expected) =>
        new(RunErrorCodes.InvalidModelOutput, $"The model's output does not match the schema: \"{field.Name}\" must be {expected}.");
}
