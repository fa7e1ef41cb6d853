using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Browser;

/// <summary>The browser app with its default model pointed at the fake OpenAI-compatible server, as <c>GatewayApp</c> does for HTTP tests.</summary>
public sealed class BuyerBrowserApp : BrowserApp
{
    public FakeOpenAiServer Model { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Llm:BaseUrl", Model.BaseUrl.ToString()),
        new("Llm:ApiKey", "operator-test-key"),
        new("Llm:Model", "operator-default-model"),
    ];

    public override async ValueTask InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        Model.Otherwise(FakeReply.Say("I am the default answer."));
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Model.DisposeAsync();
    }
}
