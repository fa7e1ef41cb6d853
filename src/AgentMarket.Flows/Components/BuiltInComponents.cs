using AgentMarket.Flows.Components.Files;
using AgentMarket.Flows.Components.InputOutput;
using AgentMarket.Flows.Components.Knowledge;
using AgentMarket.Flows.Components.Logic;
using AgentMarket.Flows.Components.Models;
using AgentMarket.Flows.Components.Processing;
using AgentMarket.Flows.Components.Prompts;
using AgentMarket.Flows.Components.Tools;

namespace AgentMarket.Flows.Components;

/// <summary>Every component type this runtime implements. Anything else is reported by validation, never guessed at.</summary>
internal static class BuiltInComponents
{
    public static ComponentRegistry Registry { get; } = new(
    [
        new ChatInputComponent(),
        new ChatOutputComponent(),
        new TextInputComponent(),
        new TextOutputComponent(),
        new WebhookComponent(),
        new PromptComponent(),
        new MemoryComponent(),
        new TypeConverterComponent(),
        new ParserComponent(),
        new CombineTextComponent(),
        new SplitTextComponent(),
        new FileComponent(),
        new LanguageModelComponent(),
        new StructuredOutputComponent(),
        new AgentComponent(),
        new CalculatorComponent(),
        new UrlComponent(),
        new ApiRequestComponent(),
        new ConditionalRouterComponent(),
        new KnowledgeRetrievalComponent(),
        new VectorStoreComponent(),
        new EmbeddingsComponent(),
    ]);
}
