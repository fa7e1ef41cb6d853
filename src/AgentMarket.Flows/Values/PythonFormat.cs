using AgentMarket.Flows.Execution;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace AgentMarket.Flows.Values;

/// <summary>
/// The subset of Python's <c>str.format</c> that Langflow templates use: <c>{name}</c>, <c>{{</c> and <c>}}</c>, an
/// optional <c>!s</c>/<c>!r</c> conversion, and the common format specifications (width, alignment, <c>,</c>,
/// precision, and the types <c>s d f %</c>). Anything else is a <see cref="FlowComponentException"/> with a message a
/// seller can act on, never a guess.
/// </summary>
internal static class PythonFormat
{
    /// <summary>A value looked up for a replacement field; <paramref name="found"/> false raises Python's KeyError.</summary>
    public delegate object? Lookup(string name, out bool found);

    public static string Format(string template, Lookup lookup)
    {
        var output = new StringBuilder(template.Length + 64);
        var position = 0;
        while (position < template.Length)
        {
            var character = template[position];
            if (character == '{')
            {
                if (position + 1 < template.Length && template[position + 1] == '{')
                {
                    output.Append('{');
                    position += 2;
                    continue;
                }

                var close = template.IndexOf('}', position + 1);
                if (close < 0)
                {
                    throw new FlowComponentException("template_error", "The template has a '{' without a closing '}'.");
                }

                AppendField(output, template.AsSpan(position + 1, close - position - 1), lookup);
                position = close + 1;
            }
            else if (character == '}')
            {
                if (position + 1 < template.Length && template[position + 1] == '}')
                {
                    output.Append('}');
                    position += 2;
                    continue;
                }

                throw new FlowComponentException("template_error", "The template has a single '}'; write '}}' for a literal brace.");
            }
            else
            {
                output.Append(character);
                position++;
            }
        }

        return output.ToString();
    }

    /// <summary>The variable names of a template in first-use order (Langflow's prompt variable extraction).</summary>
    public static IReadOnlyList<string> Variables(string template)
    {
        var names = new List<string>();
        var position = 0;
        while (position < template.Length)
        {
            var character = template[position];
            if (character == '{' && position + 1 < template.Length && template[position + 1] == '{')
            {
                position += 2;
            }
            else if (character == '}' && position + 1 < template.Length && template[position + 1] == '}')
            {
                position += 2;
            }
            else if (character == '{')
            {
                var close = template.IndexOf('}', position + 1);
                if (close < 0)
                {
                    break;
                }

                var name = FieldName(template.AsSpan(position + 1, close - position - 1)).ToString();
                if (name.Length > 0 && !names.Contains(name, StringComparer.Ordinal))
                {
                    names.Add(name);
                }

                position = close + 1;
            }
            else
            {
                position++;
            }
        }

        return names;
    }

    static ReadOnlySpan<char> FieldName(ReadOnlySpan<char> field)
    {
        var end = field.IndexOfAny("!:");
        return (end < 0 ? field : field[..end]).Trim();
    }

    static void AppendField(StringBuilder output, ReadOnlySpan<char> field, Lookup lookup)
    {
        var specStart = field.IndexOf(':');
        var spec = specStart < 0 ? [] : field[(specStart + 1)..];
        var head = specStart < 0 ? field : field[..specStart];
        var conversion = '\0';
        var bang = head.IndexOf('!');
        if (bang >= 0)
        {
            conversion = bang + 1 < head.Length ? head[bang + 1] : '\0';
            head = head[..bang];
        }

        var name = head.Trim().ToString();
        if (name.Length == 0 || char.IsDigit(name[0]))
        {
            throw new FlowComponentException(
                "template_error",
                "The template uses a positional field such as {} or {0}; name the variable, e.g. {question}.");
        }

        if (name.AsSpan().IndexOfAny(".[") >= 0)
        {
            throw new FlowComponentException(
                "template_error",
                $"The template field {{{name}}} uses attribute or index access, which is not supported; use a plain variable name.");
        }

        var value = lookup(name, out var found);
        if (!found)
        {
            throw new FlowComponentException("template_error", $"The template refers to {{{name}}}, which has no value.");
        }

        var text = conversion switch
        {
            'r' => value is JsonElement element ? PythonText.Repr(element) : Repr(value),
            's' or '\0' => null,
            _ => throw new FlowComponentException("template_error", $"Unknown conversion '!{conversion}' in {{{name}}}."),
        };
        output.Append(spec.IsEmpty ? text ?? PythonText.StrOfObject(value) : ApplySpec(text ?? (object?)value, spec.ToString(), name));
    }

    static string Repr(object? value) => value is string text ? PythonText.Repr(JsonValues.String(text)) : PythonText.StrOfObject(value);

    static string ApplySpec(object? value, string spec, string name)
    {
        var index = 0;
        var fill = ' ';
        var align = '\0';
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^' or '=')
        {
            fill = spec[0];
            align = spec[1];
            index = 2;
        }
        else if (spec.Length >= 1 && spec[0] is '<' or '>' or '^' or '=')
        {
            align = spec[0];
            index = 1;
        }

        var widthStart = index;
        while (index < spec.Length && char.IsDigit(spec[index]))
        {
            index++;
        }

        var width = index > widthStart ? int.Parse(spec.AsSpan(widthStart, index - widthStart), CultureInfo.InvariantCulture) : 0;
        var thousands = index < spec.Length && spec[index] == ',';
        if (thousands)
        {
            index++;
        }

        int? precision = null;
        if (index < spec.Length && spec[index] == '.')
        {
            var precisionStart = ++index;
            while (index < spec.Length && char.IsDigit(spec[index]))
            {
                index++;
            }

            precision = int.Parse(spec.AsSpan(precisionStart, index - precisionStart), CultureInfo.InvariantCulture);
        }

        var type = index < spec.Length ? spec[index++] : '\0';
        if (index != spec.Length || width > 10_000 || precision > 100)
        {
            throw Unsupported(spec, name);
        }

        var number = AsNumber(value);
        string body;
        switch (type)
        {
            case 'f' or 'F' or '%' when number is not null:
                var scaled = type == '%' ? number.Value * 100 : number.Value;
                body = scaled.ToString((thousands ? "N" : "F") + (precision ?? 6).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                body += type == '%' ? "%" : "";
                break;
            case 'd' when number is not null && number == Math.Floor(number.Value):
                body = ((long)number.Value).ToString(thousands ? "N0" : "D", CultureInfo.InvariantCulture);
                break;
            case '\0' when number is not null && value is not string:
                body = thousands ? number.Value.ToString("N" + (precision ?? 0).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : PythonText.StrOfObject(value);
                break;
            case 's' or '\0' when !thousands:
                body = PythonText.StrOfObject(value);
                if (precision is { } maximum && body.Length > maximum)
                {
                    body = body[..maximum];
                }

                break;
            default:
                throw Unsupported(spec, name);
        }

        if (body.Length >= width)
        {
            return body;
        }

        var padding = width - body.Length;
        var effectiveAlign = align == '\0' ? (number is not null && value is not string ? '>' : '<') : align;
        return effectiveAlign switch
        {
            '>' or '=' => new string(fill, padding) + body,
            '^' => new string(fill, padding / 2) + body + new string(fill, padding - (padding / 2)),
            _ => body + new string(fill, padding),
        };
    }

    static double? AsNumber(object? value) => value switch
    {
        long number => number,
        int number => number,
        double number => number,
        JsonElement { ValueKind: JsonValueKind.Number } element when element.TryGetDouble(out var number) => number,
        _ => null,
    };

    static FlowComponentException Unsupported(string spec, string name) =>
        new("template_error", $"The format specification '{spec}' in {{{name}}} is not supported.");
}

/// <summary>
/// Mustache-mode prompt templates (<c>use_double_brackets</c>): only <c>{{name}}</c> with an identifier name is a
/// variable, substituted in a single pass; missing values render as empty and values are never re-expanded.
/// </summary>
internal static class MustacheFormat
{
    public static string Format(string template, PythonFormat.Lookup lookup)
    {
        var output = new StringBuilder(template.Length + 64);
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                output.Append(template, position, template.Length - position);
                break;
            }

            var close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                output.Append(template, position, template.Length - position);
                break;
            }

            output.Append(template, position, open - position);
            var name = template.AsSpan(open + 2, close - open - 2).Trim().ToString();
            if (!IsIdentifier(name))
            {
                throw new FlowComponentException(
                    "template_error",
                    $"The template contains '{{{{{name}}}}}': only simple {{{{variable}}}} names are allowed in double-bracket mode.");
            }

            var value = lookup(name, out var found);
            output.Append(found ? PythonText.StrOfObject(value) : "");
            position = close + 2;
        }

        return output.ToString();
    }

    public static IReadOnlyList<string> Variables(string template)
    {
        var names = new List<string>();
        var position = 0;
        while (true)
        {
            var open = template.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                break;
            }

            var close = template.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                break;
            }

            var name = template.AsSpan(open + 2, close - open - 2).Trim().ToString();
            if (IsIdentifier(name) && !names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }

            position = close + 2;
        }

        return names;
    }

    static bool IsIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') &&
        name.All(character => char.IsAsciiLetterOrDigit(character) || character == '_');
}
