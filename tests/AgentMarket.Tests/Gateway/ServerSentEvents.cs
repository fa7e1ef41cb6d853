using System.Text.Json;

namespace AgentMarket.Tests.Gateway;

/// <summary>Parses a <c>text/event-stream</c> body into (event name, JSON data) pairs, as a browser's EventSource would.</summary>
public static class ServerSentEvents
{
    public sealed record Event(string Name, JsonElement Data);

    public static List<Event> Parse(string body)
    {
        var events = new List<Event>();
        foreach (var block in body.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string name = "message";
            var data = new List<string>();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event:", StringComparison.Ordinal))
                {
                    name = line["event:".Length..].Trim();
                }
                else if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    data.Add(line["data:".Length..].TrimStart());
                }
            }
            if (data.Count > 0)
            {
                events.Add(new Event(name, JsonDocument.Parse(string.Join("\n", data)).RootElement.Clone()));
            }
        }
        return events;
    }
}
