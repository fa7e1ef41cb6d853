using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>
/// Python's <c>str()</c> and <c>repr()</c> of JSON values. Langflow formats values with Python, so templates such as
/// <c>"{flag}"</c> render <c>True</c> and <c>None</c>; matching that keeps outputs equal to Langflow's.
/// </summary>
internal static class PythonText
{
    public static string Str(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        _ => Repr(value),
    };

    public static string Repr(JsonElement value)
    {
        var builder = new StringBuilder();
        AppendRepr(builder, value);
        return builder.ToString();
    }

    public static string StrOfObject(object? value) => value switch
    {
        null => "None",
        string text => text,
        bool flag => flag ? "True" : "False",
        long or int => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        double number => FloatRepr(number),
        JsonElement element => Str(element),
        Message message => message.Text,
        Data data => Repr(data.Value),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    static void AppendRepr(StringBuilder builder, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                AppendStringRepr(builder, value.GetString() ?? "");
                break;
            case JsonValueKind.Number:
                builder.Append(NumberRepr(value));
                break;
            case JsonValueKind.True:
                builder.Append("True");
                break;
            case JsonValueKind.False:
                builder.Append("False");
                break;
            case JsonValueKind.Array:
                builder.Append('[');
                var firstItem = true;
                foreach (var item in value.EnumerateArray())
                {
                    if (!firstItem)
                    {
                        builder.Append(", ");
                    }

                    firstItem = false;
                    AppendRepr(builder, item);
                }

                builder.Append(']');
                break;
            case JsonValueKind.Object:
                builder.Append('{');
                var firstProperty = true;
                foreach (var property in value.EnumerateObject())
                {
                    if (!firstProperty)
                    {
                        builder.Append(", ");
                    }

                    firstProperty = false;
                    AppendStringRepr(builder, property.Name);
                    builder.Append(": ");
                    AppendRepr(builder, property.Value);
                }

                builder.Append('}');
                break;
            default:
                builder.Append("None");
                break;
        }
    }

    /// <summary>A JSON integer stays an integer; anything with a fraction or exponent is a Python float.</summary>
    static string NumberRepr(JsonElement number)
    {
        var raw = number.GetRawText();
        if (raw.AsSpan().IndexOfAny(".eE") < 0)
        {
            return raw;
        }

        return number.TryGetDouble(out var value) ? FloatRepr(value) : raw;
    }

    /// <summary>Python's <c>repr(float)</c>: shortest round-trip digits, exponent form below 1e-4 or from 1e16.</summary>
    public static string FloatRepr(double value)
    {
        if (double.IsNaN(value))
        {
            return "nan";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "inf" : "-inf";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        var (negative, digits, exponent) = ShortestDigits(value);
        var builder = new StringBuilder();
        if (negative)
        {
            builder.Append('-');
        }

        // exponent is the position of the decimal point relative to the first digit (value = 0.d1d2… × 10^exponent).
        var scientificExponent = exponent - 1;
        if (scientificExponent < -4 || scientificExponent >= 16)
        {
            builder.Append(digits[0]);
            if (digits.Length > 1)
            {
                builder.Append('.').Append(digits, 1, digits.Length - 1);
            }

            builder.Append('e').Append(scientificExponent < 0 ? '-' : '+');
            builder.Append(Math.Abs(scientificExponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent <= 0)
        {
            builder.Append("0.").Append('0', -exponent).Append(digits);
        }
        else if (exponent >= digits.Length)
        {
            builder.Append(digits).Append('0', exponent - digits.Length).Append(".0");
        }
        else
        {
            builder.Append(digits, 0, exponent).Append('.').Append(digits, exponent, digits.Length - exponent);
        }

        return builder.ToString();
    }

    static (bool Negative, string Digits, int Exponent) ShortestDigits(double value)
    {
        // "E16" would give 17 digits; "R" gives the shortest round-trip form, which is what Python prints.
        var text = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var exponent = 0;
        var ePosition = text.IndexOfAny(['E', 'e']);
        if (ePosition >= 0)
        {
            exponent = int.Parse(text.AsSpan(ePosition + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..ePosition];
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var integerPart = dot >= 0 ? text[..dot] : text;
        var fraction = dot >= 0 ? text[(dot + 1)..] : "";
        var allDigits = integerPart + fraction;
        var pointPosition = integerPart.Length + exponent;
        var leadingZeros = 0;
        while (leadingZeros < allDigits.Length - 1 && allDigits[leadingZeros] == '0')
        {
            leadingZeros++;
        }

        var digits = allDigits[leadingZeros..].TrimEnd('0');
        return (value < 0, digits.Length == 0 ? "0" : digits, pointPosition - leadingZeros);
    }

    static void AppendStringRepr(StringBuilder builder, string text)
    {
        var quote = text.Contains('\'', StringComparison.Ordinal) && !text.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        builder.Append(quote);
        foreach (var character in text)
        {
            switch (character)
            {
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (character == quote)
                    {
                        builder.Append('\\');
                    }

                    builder.Append(character);
                    break;
            }
        }

        builder.Append(quote);
    }

    /// <summary>Python truthiness of a configured value: a non-empty string is true, so "false" is true (format §1.3).</summary>
    public static bool Truthy(object? value) => value switch
    {
        null => false,
        bool flag => flag,
        string text => text.Length > 0,
        long number => number != 0,
        double number => number != 0,
        JsonElement element => element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.String => (element.GetString() ?? "").Length > 0,
            JsonValueKind.Number => element.TryGetDouble(out var number) && number != 0,
            JsonValueKind.Array => element.GetArrayLength() > 0,
            JsonValueKind.Object => element.EnumerateObject().Any(),
            _ => false,
        },
        _ => true,
    };
}
