using AgentMarket.Flows.Models;
using AgentMarket.Flows.Net;
using AgentMarket.Flows.Services;
using AgentMarket.Testing.FakeOpenAi;
using Microsoft.Extensions.AI;

namespace AgentMarket.Flows.Tests.Support;

/// <summary>Builds <see cref="FlowServices"/> for tests: in-memory memory, a stepping clock, and the model the test chooses.</summary>
internal static class TestServices
{
    /// <summary>Lets engine tests reach servers on loopback (the fake model, local web pages); the default refuses them.</summary>
    public static OutboundGuard LoopbackAllowed { get; } = new(OutboundPolicy.FromAllowList(["127.0.0.1/32"]));

    public static FlowServices Create(IChatClient? model = null, InMemoryMessageStore? messages = null, IKnowledgeRetriever? knowledge = null, IDocumentReader? documents = null) => new()
    {
        Models = new SingleModelResolver(model),
        Messages = messages ?? new InMemoryMessageStore(),
        Knowledge = knowledge,
        Documents = documents,
        Time = new SteppingClock(),
    };

    public static OpenAiCompatibleChatClient Client(FakeOpenAiServer server, string model = "fake-default") =>
        new(new OpenAiCompatibleChatClientOptions { BaseUrl = server.BaseUrl, ApiKey = "sk-test", Model = model, MaxRetries = 0, Timeout = TimeSpan.FromSeconds(20) });
}
