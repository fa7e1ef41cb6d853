using System.Text.Json;

namespace AgentMarket.Runtime.Cli;

/// <summary>The parsed command line of <see cref="FlowCli"/>.</summary>
internal sealed record CliArguments
{
    public required string Command { get; init; }

    public required string File { get; init; }

    public string? Message { get; init; }

    public JsonElement? Tweaks { get; init; }

    public string? Session { get; init; }

    public bool Stream { get; init; }

    public bool Json { get; init; }

    public string InputType { get; init; } = "chat";

    public string OutputType { get; init; } = "chat";

    public string? OutputComponent { get; init; }

    public string? DocumentFolder { get; init; }

    public IReadOnlyList<string> Knowledge { get; init; } = [];

    public string? Model { get; init; }

    /// <summary>Parses <c>validate FILE …</c> or <c>run FILE [MESSAGE] …</c>; throws <see cref="FormatException"/> with the problem.</summary>
    public static CliArguments Parse(string[] args)
    {
        if (args is not [("validate" or "run") and var command, var file, .. var rest])
        {
            throw new FormatException("Expected 'flow validate FILE' or 'flow run FILE [MESSAGE]'.");
        }

        var parsed = new CliArguments { Command = command, File = file };
        var knowledge = new List<string>();
        for (var index = 0; index < rest.Length; index++)
        {
            var argument = rest[index];
            string Value() => index + 1 < rest.Length ? rest[++index] : throw new FormatException($"{argument} needs a value.");
            parsed = argument switch
            {
                "--json" => parsed with { Json = true },
                "--stream" when command == "run" => parsed with { Stream = true },
                "--session" when command == "run" => parsed with { Session = Value() },
                "--tweaks" when command == "run" => parsed with { Tweaks = ParseTweaks(Value()) },
                "--input-type" when command == "run" => parsed with { InputType = Value() },
                "--output-type" when command == "run" => parsed with { OutputType = Value() },
                "--output-component" when command == "run" => parsed with { OutputComponent = Value() },
                "--docs" when command == "run" => parsed with { DocumentFolder = Value() },
                "--model" when command == "run" => parsed with { Model = Value() },
                "--knowledge" when command == "run" => Add(parsed, knowledge, Value()),
                _ when !argument.StartsWith("--", StringComparison.Ordinal) && command == "run" && parsed.Message is null => parsed with { Message = argument },
                _ => throw new FormatException($"Unknown argument '{argument}'."),
            };
        }

        return parsed with { Knowledge = knowledge };
    }

    static CliArguments Add(CliArguments parsed, List<string> knowledge, string path)
    {
        knowledge.Add(path);
        return parsed;
    }

    static JsonElement ParseTweaks(string value)
    {
        var json = value.StartsWith('@') ? System.IO.File.ReadAllText(value[1..]) : value;
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? document.RootElement.Clone()
                : throw new FormatException("--tweaks must be a JSON object.");
        }
        catch (JsonException exception)
        {
            throw new FormatException($"--tweaks is not valid JSON: {exception.Message}");
        }
    }
}
