using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>Builds immutable <see cref="JsonElement"/>s from CLR values; the one place engine values become JSON.</summary>
internal static class JsonValues
{
    public static readonly JsonElement Null = Parse("null");
    public static readonly JsonElement EmptyObject = Parse("{}");
    public static readonly JsonElement EmptyArray = Parse("[]");

    public static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static JsonElement String(string value) => Build(writer => writer.WriteStringValue(value));

    public static JsonElement Object(IEnumerable<KeyValuePair<string, JsonElement>> properties) => Build(writer =>
    {
        writer.WriteStartObject();
        foreach (var (key, value) in properties)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }

        writer.WriteEndObject();
    });

    public static JsonElement Array(IEnumerable<JsonElement> items) => Build(writer =>
    {
        writer.WriteStartArray();
        foreach (var item in items)
        {
            item.WriteTo(writer);
        }

        writer.WriteEndArray();
    });

    public static JsonElement From(object? value) => value switch
    {
        JsonElement element => element,
        null => Null,
        _ => Build(writer => Write(writer, value)),
    };

    public static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonElement element:
                element.WriteTo(writer);
                break;
            case string text:
                writer.WriteStringValue(text);
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case int or long or short or byte:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case double number:
                WriteDouble(writer, number);
                break;
            case float number:
                WriteDouble(writer, number);
                break;
            case decimal number:
                writer.WriteNumberValue(number);
                break;
            case DateTimeOffset time:
                writer.WriteStringValue(time.ToString("O", CultureInfo.InvariantCulture));
                break;
            case Data data:
                data.Value.WriteTo(writer);
                break;
            case Message message:
                writer.WriteStringValue(message.Text);
                break;
            case IEnumerable<KeyValuePair<string, object?>> pairs:
                writer.WriteStartObject();
                foreach (var (key, item) in pairs)
                {
                    writer.WritePropertyName(key);
                    Write(writer, item);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable<KeyValuePair<string, string>> stringPairs:
                writer.WriteStartObject();
                foreach (var (key, item) in stringPairs)
                {
                    writer.WriteString(key, item);
                }

                writer.WriteEndObject();
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    static void WriteDouble(Utf8JsonWriter writer, double number)
    {
        // JSON has no NaN or infinity; Python's json.dumps would write them bare, which no parser accepts.
        if (double.IsFinite(number))
        {
            writer.WriteNumberValue(number);
        }
        else
        {
            writer.WriteStringValue(number.ToString(CultureInfo.InvariantCulture));
        }
    }

    static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }
}
