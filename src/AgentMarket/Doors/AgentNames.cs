namespace AgentMarket.Doors;

/// <summary>
/// The names an organization's subscribed agents go by on the doors: the listing's slug (an OpenAI model id, a Langflow
/// endpoint name, an MCP tool name). Names must be unique among one caller's agents and fit a length, so an
/// organization that subscribed to one listing in two projects, or slugs that differ only past the limit, get a
/// deterministic suffix from the subscription's id instead of one name silently shadowing another.
/// </summary>
public static class AgentNames
{
    /// <summary>MCP tool names: <c>[a-zA-Z0-9_-]{1,64}</c>.</summary>
    public const int ToolNameLength = 64;

    /// <summary>Listing slugs are at most 80 characters, so slugs pass through unchanged.</summary>
    public const int SlugLength = 80;

    /// <summary>
    /// Names for <paramref name="agents"/>, in their order (oldest subscription first): each slug as is when free, else
    /// <c>slug-xxxxxxxx</c> (the subscription id's first 8 hex digits), else the whole id. An agent whose name is free
    /// always keeps it, so adding a subscription never renames another agent's tool.
    /// </summary>
    public static IReadOnlyList<string> Assign(IReadOnlyList<(Guid Id, string Slug)> agents, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 40);
        var bases = agents.Select(agent => Sanitize(agent.Slug, maxLength)).ToArray();
        var names = new string?[agents.Count];
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < agents.Count; i++)
        {
            if (taken.Add(bases[i]))
            {
                names[i] = bases[i];
            }
        }
        for (var i = 0; i < agents.Count; i++)
        {
            if (names[i] is not null)
            {
                continue;
            }
            var id = agents[i].Id.ToString("N");
            var shortName = WithSuffix(bases[i], id[..8], maxLength);
            names[i] = taken.Add(shortName) ? shortName : WithSuffix(bases[i], id, maxLength);
            taken.Add(names[i]!);
        }
        return names!;
    }

    /// <summary>The slug with anything outside <c>[a-zA-Z0-9_-]</c> turned into <c>-</c>, cut to <paramref name="maxLength"/>.</summary>
    public static string Sanitize(string slug, int maxLength)
    {
        var characters = slug.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' ? c : '-').ToArray();
        var name = new string(characters).Trim('-');
        if (name.Length == 0)
        {
            name = "agent";
        }
        return name.Length <= maxLength ? name : name[..maxLength].TrimEnd('-');
    }

    static string WithSuffix(string name, string suffix, int maxLength)
    {
        var room = maxLength - suffix.Length - 1;
        return $"{(name.Length <= room ? name : name[..room].TrimEnd('-'))}-{suffix}";
    }
}
