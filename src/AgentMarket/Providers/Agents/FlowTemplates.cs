namespace AgentMarket.Providers.Agents;

/// <summary>A built-in starting point: a flow the engine runs, imported as an agent's first version.</summary>
public sealed record FlowTemplate(string Key, string Name, string Description, string Category, string FileName);

/// <summary>
/// The templates a seller can start from instead of a Langflow export (SPEC §5). Each is a Langflow 1.x export in
/// <c>Providers/Templates</c>, assembled from the Langflow starter projects in the shared examples (MIT): the same
/// chat input, language model (platform default model) and chat output nodes, with a knowledge-retrieval branch or
/// a webhook start added.
/// </summary>
public static class FlowTemplates
{
    public static IReadOnlyList<FlowTemplate> All { get; } =
    [
        new("knowledge_base_assistant", "Knowledge-base assistant",
            "Answers from the buyer's own documents (their knowledge base) and says so when they do not cover the question.",
            "assistants", "knowledge-base-assistant.json"),
        new("prompt_assistant", "Prompt assistant",
            "A chat assistant steered by one system prompt that buyers can adjust.",
            "assistants", "prompt-assistant.json"),
        new("webhook_automation", "Webhook automation",
            "Turns each incoming webhook payload into a short summary and a list of action items.",
            "automations", "webhook-automation.json"),
    ];

    public static FlowTemplate? Find(string? key) => All.FirstOrDefault(t => t.Key == key);

    public static byte[] Flow(FlowTemplate template)
    {
        using var stream = typeof(FlowTemplates).Assembly.GetManifestResourceStream($"AgentMarket.Providers.Templates.{template.FileName}")
            ?? throw new InvalidOperationException($"Template {template.FileName} is not embedded.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
