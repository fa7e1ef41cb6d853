using AgentMarket.Flows.Compilation;

namespace AgentMarket.Flows.Tests.Support;

/// <summary>The real Langflow exports in ../shared/examples/langflow, beside the repository.</summary>
internal static class Examples
{
    public const string SimpleChatNoLlm = "simple_chat_no_llm.json";
    public const string SimpleApiTest = "SimpleAPITest.json";
    public const string MemoryChatbotNoLlm = "MemoryChatbotNoLLM.json";
    public const string BasicPrompting = "Basic Prompting.json";
    public const string MemoryChatbot = "Memory Chatbot.json";
    public const string DocumentQa = "Document Q&A.json";
    public const string FinancialReportParser = "Financial Report Parser.json";
    public const string SimpleAgent = "Simple Agent.json";
    public const string VectorStoreRag = "Vector Store RAG.json";
    public const string LoopTest = "LoopTest.json";
    public const string LegacyChat = "BasicChatwithPromptandHistory.json";

    public static readonly string[] All =
    [
        SimpleChatNoLlm, SimpleApiTest, MemoryChatbotNoLlm, BasicPrompting, MemoryChatbot, DocumentQa,
        FinancialReportParser, SimpleAgent, VectorStoreRag, LoopTest, LegacyChat,
    ];

    public static string Directory { get; } = Path.Combine(RepositoryRoot(), "..", "shared", "examples", "langflow");

    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AgentMarket.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (AgentMarket.slnx) was not found above the test binaries.");
    }

    public static byte[] Bytes(string name) => File.ReadAllBytes(Path.Combine(Directory, name));

    public static ExecutionPlan Plan(string name, string? flowId = null)
    {
        var compiled = FlowEngine.Default.Compile(Bytes(name), flowId);
        return compiled.Plan ?? throw new InvalidOperationException($"{name} did not compile:\n{compiled.Report.ToText()}");
    }
}
