using AgentMarket.Identity;
using AgentMarket.Providers.Configuration;

namespace AgentMarket.Providers.Agents;

/// <summary>
/// A built-in starting point: a flow the engine runs, imported as an agent's first version, with the settings buyers
/// of such an agent expect already declared.
/// </summary>
public sealed record FlowTemplate(string Key, string Name, string Description, string Category, string FileName, IReadOnlyList<ConfigurableFieldInput> Fields);

/// <summary>
/// The templates a seller can start from instead of a Langflow export (SPEC §5). Each is a Langflow 1.x export in
/// <c>Providers/Templates</c>, assembled from the Langflow starter projects in the shared examples (MIT): the same
/// chat input, language model (platform default model) and chat output nodes, with a knowledge-retrieval branch or
/// a webhook start added. The two chat assistants remember the conversation (a Memory node, as in "Memory Chatbot"),
/// and their persona is a prompt variable of its own, so a buyer's persona cannot drop the history or the passages.
/// </summary>
public static class FlowTemplates
{
    static readonly ConfigurableFieldInput BotName =
        new("bot_name", "ChatOutput-hJNhd", "sender_name", "Assistant name", ConfigurableFieldKind.Text, "AI", null, "The name shown above each answer.");

    public static IReadOnlyList<FlowTemplate> All { get; } =
    [
        new("knowledge_base_assistant", "Knowledge-base assistant",
            "Answers from the buyer's own documents (their knowledge base) and says so when they do not cover the question.",
            "assistants", "knowledge-base-assistant.json",
            [
                new("knowledge_base", "KnowledgeRetrieval-kb7Qx", "knowledge_base", "Knowledge base", ConfigurableFieldKind.KnowledgeBase, null, null, "The documents the assistant answers from."),
                new("system_prompt", "Prompt-xvuxC", "persona", "Persona and instructions", ConfigurableFieldKind.LongText,
                    "You answer questions using the knowledge base passages below. If they do not contain the answer, say you do not know rather than guessing.",
                    null, "Who the assistant is and how it answers; the passages and the conversation so far follow it."),
                BotName,
            ]),
        new("prompt_assistant", "Prompt assistant",
            "A chat assistant steered by one system prompt that buyers can adjust.",
            "assistants", "prompt-assistant.json",
            [
                new("system_prompt", "Prompt-xvuxC", "persona", "Persona and instructions", ConfigurableFieldKind.LongText,
                    "You are a helpful, friendly assistant. Answer clearly and briefly, in the language the user writes in.", null,
                    "Who the assistant is and how it answers; the conversation so far follows it."),
                BotName,
            ]),
        new("webhook_automation", "Webhook automation",
            "Turns each incoming webhook payload into a short summary and a list of action items.",
            "automations", "webhook-automation.json",
            [
                new("instructions", "Prompt-xvuxC", "template", "Instructions", ConfigurableFieldKind.LongText,
                    "You process events for an automation. Summarise the event you receive in one short paragraph, then list the action items it implies, one per line.",
                    null, "What to do with each event."),
            ]),
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

/// <summary>Starts an agent from a template: creates it, imports the template's flow as 1.0.0 and declares its fields.</summary>
public sealed class TemplateStarter(ProviderAgents agents, AgentVersions versions, ConfigurableFields fields)
{
    public async Task<(ProviderAgent? Agent, Accounts.Failure? Failure)> StartAsync(FlowTemplate template, string? name, string? description, string? category, CancellationToken ct)
    {
        var (agent, failure) = await agents.CreateAsync(
            string.IsNullOrWhiteSpace(name) ? template.Name : name, description ?? template.Description, category ?? template.Category, ct);
        if (failure is not null)
        {
            return (null, failure);
        }
        var imported = await versions.ImportAsync(agent!.Id, FlowTemplates.Flow(template), template.FileName, null, $"Created from the {template.Name} template.", ct);
        if (imported.Failure is not null)
        {
            return (null, imported.Failure);
        }
        var (_, declareFailure, problems, _) = await fields.ReplaceAsync(agent.Id, template.Fields, ct);
        if (declareFailure is not null || problems is { Count: > 0 })
        {
            // The templates are ours: this is a bug in a template (the template tests would have caught it).
            throw new InvalidOperationException($"Template {template.Key} declares fields its flow does not have.");
        }
        return (agent, null);
    }
}
