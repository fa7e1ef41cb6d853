using AgentMarket.Testing.FakeOpenAi;

namespace AgentMarket.Flows.Tests.Support;

/// <summary>One fake OpenAI server per test class; each test starts from no rules and no recorded requests.</summary>
public sealed class FakeModel : IAsyncLifetime
{
    FakeOpenAiServer? _server;

    public FakeOpenAiServer Server => _server ?? throw new InvalidOperationException("The fake server has not started.");

    public async ValueTask InitializeAsync() => _server = await FakeOpenAiServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>The server, reset for a new test.</summary>
    public FakeOpenAiServer Fresh()
    {
        Server.Reset();
        Server.Otherwise(FakeReply.Say("(fake model: no scripted reply matched)"));
        return Server;
    }
}
