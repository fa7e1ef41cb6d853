using System.Text.RegularExpressions;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Playwright;

namespace AgentMarket.Tests.Browser;

/// <summary>chat.js in Chromium: answers stream into the chat page and the playground (the widget); refusals are said, with the way out.</summary>
public class BuyerChatBrowserTests(BuyerBrowserApp app) : IClassFixture<BuyerBrowserApp>
{
    [Fact]
    public async Task ChatPage_StreamsTheAnswer_KeepsTheSession_AndUpdatesTheBalance()
    {
        var agent = await app.PromptAgentAsync();
        const string answer = "Streaming answers arrive a few characters at a time, so you can start reading at once.";
        app.Model.When("Tell me how answers arrive", FakeReply.Say(answer) with { ChunkSize = 4, ChunkDelay = TimeSpan.FromMilliseconds(60) });
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await app.SignUpAsync(page, "Chat Buyer");
        await page.GotoAsync($"{app.BaseUrl}/agents/{agent.Slug}");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add to My Agents" }).ClickAsync();
        await page.WaitForPageAsync(new Regex("/configure\\?saved=subscribed$"));
        await page.GetByRole(AriaRole.Navigation, new() { Name = agent.Name, Exact = true }).GetByRole(AriaRole.Link, new() { Name = "Chat" }).ClickAsync();

        await page.GetByLabel("Message").FillAsync("Tell me how answers arrive");
        await page.GetByLabel("Message").PressAsync("Enter");

        // While the answer streams it is marked busy and already holds part of the text.
        var streaming = page.Locator(".chat-agent[aria-busy='true'] .chat-text");
        await Assertions.Expect(streaming).ToHaveTextAsync(new Regex("^Stre"));
        Assert.NotEqual(answer, await streaming.TextContentAsync());
        var done = page.Locator(".chat-agent[aria-busy='false'] .chat-text");
        await Assertions.Expect(done).ToHaveTextAsync(answer);
        await Assertions.Expect(page.Locator("header [data-credit-balance] strong")).ToHaveTextAsync("345");
        await Assertions.Expect(page.GetByRole(AriaRole.Log)).ToContainTextAsync("5 credits · 345 left");
        await page.WaitForPageAsync(new Regex("/chat\\?session=[0-9a-f]+$"));
        await Assertions.Expect(page.Locator("[data-session-list] a[aria-current='page']")).ToHaveTextAsync("Tell me how answers arrive");

        // The conversation is on the server: a reload shows it, and the next message continues the same session.
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Log)).ToContainTextAsync(answer);
        await page.GetByLabel("Message").FillAsync("And again?");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        await Assertions.Expect(page.Locator(".chat-agent .chat-text").Last).ToHaveTextAsync("I am the default answer.");
        await Assertions.Expect(page.Locator("[data-session-list] li")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task Playground_AfterTodaysFreeTries_SaysSo_AndOffersTheSignUp()
    {
        var agent = await app.PromptAgentAsync();
        await using var context = await app.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync($"{app.BaseUrl}/agents/{agent.Slug}#try");
        var playground = page.Locator("#try");
        await Assertions.Expect(playground.Locator("[data-trial-left]")).ToHaveTextAsync("Try it free: 3 runs a day, no sign-up needed.");

        for (var left = 2; left >= 0; left--)
        {
            await playground.GetByLabel("Message").FillAsync($"Question {3 - left}");
            await playground.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
            await Assertions.Expect(playground.Locator(".meta")).ToHaveCountAsync(3 - left);
        }
        await Assertions.Expect(playground.Locator("[data-trial-left]")).ToHaveTextAsync("No free tries left today. Add the agent to My Agents to keep going.");

        await playground.GetByLabel("Message").FillAsync("One more?");
        await playground.GetByRole(AriaRole.Button, new() { Name = "Send" }).ClickAsync();
        var alert = playground.GetByRole(AriaRole.Alert);
        await Assertions.Expect(alert).ToContainTextAsync("You have used today's free tries of this agent.");
        await Assertions.Expect(alert).ToContainTextAsync(new Regex("Try again in [0-9]+ (hours|minutes|seconds)"));
        await alert.GetByRole(AriaRole.Link, new() { Name = "Sign up to keep going" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create account and add" })).ToBeVisibleAsync();
        await Assertions.Expect(playground.Locator(".msg.agent")).ToHaveCountAsync(3);
    }
}
