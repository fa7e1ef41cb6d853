using System.Globalization;
using System.Text.RegularExpressions;

namespace AgentMarket.Providers.Configuration;

/// <summary>A configurable field as the provider declares it (from the API or the page).</summary>
public sealed record ConfigurableFieldInput(
    string Key, string NodeId, string FieldName, string Label, ConfigurableFieldKind Kind, string? DefaultValue,
    IReadOnlyList<string>? Options, string? HelpText, double? Minimum = null, double? Maximum = null);

/// <summary>What makes a set of configurable fields valid for a flow: each names a real, suitable field of it.</summary>
public static partial class ConfigurableFieldRules
{
    public const int MaxFields = 30;
    public const int MaxOptions = 50;
    public const int MaxTextLength = 10_000;

    [GeneratedRegex("^[a-z][a-z0-9_]{0,59}$")]
    private static partial Regex KeyPattern();

    /// <summary>Every problem with <paramref name="fields"/> against the flow's <paramref name="candidates"/>, keyed like request fields.</summary>
    public static List<(string Field, string Message)> Problems(IReadOnlyList<ConfigurableFieldInput> fields, IReadOnlyList<FlowFieldCandidate> candidates)
    {
        var problems = new List<(string, string)>();
        if (fields.Count > MaxFields)
        {
            problems.Add(("fields", $"Declare at most {MaxFields} configurable fields."));
            return problems;
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var targets = new HashSet<(string, string)>();
        for (var i = 0; i < fields.Count; i++)
        {
            var field = fields[i];
            var at = $"fields[{i}]";
            if (field.Key is null || !KeyPattern().IsMatch(field.Key))
            {
                problems.Add(($"{at}.key", "Use 1–60 lower-case letters, digits and underscores, starting with a letter."));
            }
            else if (!keys.Add(field.Key))
            {
                problems.Add(($"{at}.key", $"The key '{field.Key}' is used twice."));
            }
            if (string.IsNullOrWhiteSpace(field.Label) || field.Label.Trim().Length > 100)
            {
                problems.Add(($"{at}.label", "Give a label of 1–100 characters."));
            }
            if (field.HelpText is { Length: > 300 })
            {
                problems.Add(($"{at}.help_text", "Keep help text under 300 characters."));
            }
            if (!targets.Add((field.NodeId ?? "", field.FieldName ?? "")))
            {
                problems.Add(($"{at}.field_name", "This flow field is declared twice."));
            }
            var candidate = candidates.FirstOrDefault(c => c.NodeId == field.NodeId && c.FieldName == field.FieldName);
            if (candidate is null)
            {
                problems.Add(($"{at}.field_name", $"The current version has no configurable field '{field.FieldName}' on node '{field.NodeId}'."));
                continue;
            }
            if (!Suits(field.Kind, candidate.FieldType))
            {
                problems.Add(($"{at}.kind", $"A {candidate.FieldType} field cannot be configured as {Platform.Data.EnumNames<ConfigurableFieldKind>.ToName(field.Kind)}."));
                continue;
            }
            if (OptionsProblem(field) is { } options)
            {
                problems.Add(($"{at}.options", options));
            }
            else if (field.Kind == ConfigurableFieldKind.Choice && candidate.Options.Count > 0 && field.Options!.Except(candidate.Options, StringComparer.Ordinal).Any())
            {
                // The component accepts only its own options: another would fail the buyer's runs.
                problems.Add(($"{at}.options", $"This flow field accepts only its own options: choose among {string.Join(", ", candidate.Options)}."));
            }
            else if (RangeProblem(field) is { } range)
            {
                problems.Add(($"{at}.minimum", range));
            }
            else if (ValueProblem(field.Kind, field.DefaultValue, field.Options ?? [], field.Minimum, field.Maximum) is { } value)
            {
                problems.Add(($"{at}.default_value", value));
            }
        }
        return problems;
    }

    /// <summary>Why <paramref name="value"/> is not a valid value of a field of this kind, or null when it is.</summary>
    public static string? ValueProblem(ConfigurableFieldKind kind, string? value, IReadOnlyList<string> options, double? minimum = null, double? maximum = null)
    {
        if (value is null)
        {
            return null;
        }
        return kind switch
        {
            _ when value.Length > MaxTextLength => $"Keep values under {MaxTextLength:N0} characters.",
            ConfigurableFieldKind.Number when !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || !double.IsFinite(number) => "Enter a number.",
            ConfigurableFieldKind.Number when OutOfRange(double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture), minimum, maximum) is { } range => range,
            ConfigurableFieldKind.Boolean when value is not ("true" or "false") => "Enter true or false.",
            ConfigurableFieldKind.Choice when !options.Contains(value, StringComparer.Ordinal) => "Pick one of the options.",
            ConfigurableFieldKind.KnowledgeBase => "The knowledge base is the buyer's own; it has no default.",
            _ => null,
        };
    }

    /// <summary>Why <paramref name="number"/> is outside the field's bounds, or null when it is within them.</summary>
    public static string? OutOfRange(double number, double? minimum, double? maximum) =>
        number < minimum || number > maximum
            ? (minimum, maximum) switch
            {
                ({ } low, { } high) => $"Enter a number from {Format(low)} to {Format(high)}.",
                ({ } low, null) => $"Enter a number of at least {Format(low)}.",
                _ => $"Enter a number of at most {Format(maximum!.Value)}.",
            }
            : null;

    /// <summary>A bound as people write it: 0.7, not 0.69999999999999996.</summary>
    public static string Format(double number) => number.ToString("0.########", CultureInfo.InvariantCulture);

    static string? RangeProblem(ConfigurableFieldInput field) =>
        (field.Minimum, field.Maximum) switch
        {
            (null, null) => null,
            _ when field.Kind != ConfigurableFieldKind.Number => "Only number fields have a minimum and a maximum.",
            ({ } low, _) when !double.IsFinite(low) => "The minimum must be a number.",
            (_, { } high) when !double.IsFinite(high) => "The maximum must be a number.",
            ({ } low, { } high) when low > high => "The minimum must not be above the maximum.",
            _ => null,
        };

    static string? OptionsProblem(ConfigurableFieldInput field)
    {
        var options = field.Options ?? [];
        if (field.Kind != ConfigurableFieldKind.Choice)
        {
            return options.Count == 0 ? null : "Only choice fields have options.";
        }
        if (options.Count is 0 or > MaxOptions)
        {
            return $"Give 1–{MaxOptions} options.";
        }
        if (options.Any(o => string.IsNullOrWhiteSpace(o) || o.Length > 100) || options.Distinct(StringComparer.Ordinal).Count() != options.Count)
        {
            return "Options are distinct and 1–100 characters long.";
        }
        return null;
    }

    static bool Suits(ConfigurableFieldKind kind, string fieldType) => fieldType switch
    {
        "str" => kind is ConfigurableFieldKind.Text or ConfigurableFieldKind.LongText or ConfigurableFieldKind.Choice or ConfigurableFieldKind.KnowledgeBase,
        "prompt" => kind is ConfigurableFieldKind.Text or ConfigurableFieldKind.LongText,
        "int" or "float" or "slider" => kind == ConfigurableFieldKind.Number,
        "bool" => kind == ConfigurableFieldKind.Boolean,
        "file" => kind == ConfigurableFieldKind.KnowledgeBase,
        _ => false,
    };
}
