using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

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

    /// <summary>Signs a new buyer up on <paramref name="page"/> through the sign-up form; they land on My Agents with the starter credits.</summary>
    public async Task SignUpAsync(IPage page, string name)
    {
        await page.GotoAsync(BaseUrl + "/signup");
        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByLabel("Email").FillAsync($"buyer-{Guid.NewGuid():N}@tests.example");
        await page.GetByLabel("Password").FillAsync("a very long password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForPageAsync(BaseUrl + "/my-agents");
        await Assertions.Expect(page.Locator("[data-stat=credits]")).ToHaveTextAsync("350");
    }
}
