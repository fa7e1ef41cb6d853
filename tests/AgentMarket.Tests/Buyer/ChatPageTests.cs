using System.Net;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Buyer;

/// <summary>The chat page without JavaScript: the form runs the agent through the gateway; sessions are listed newest first.</summary>
public class ChatPageTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task SendingAMessage_RunsTheAgent_AndShowsTheConversation()
    {
        var subscribed = await app.SubscribedAsync();
        var url = $"/my-agents/{subscribed.Config}/chat";

        var sent = await subscribed.Buyer.Client.SubmitAsync(url, "chat", new() { ["message"] = "What can you do for my shop?", ["session"] = "" });

        var conversation = PageForms.AssertRedirect(sent, $"{url}?session=");
        var html = await subscribed.Buyer.Client.HtmlAsync(conversation);
        Assert.Contains("What can you do for my shop?", html, StringComparison.Ordinal);
        Assert.Contains("I am the default answer.", html, StringComparison.Ordinal);
        Assert.Contains($"aria-current=\"page\">What can you do for my shop?</a>", html, StringComparison.Ordinal);
        Assert.Equal(345, (await subscribed.Buyer.BalanceAsync()).GetProperty("balance").GetInt64());

        // The same session continues: the second question goes to the same conversation.
        var session = Uri.UnescapeDataString(conversation[(conversation.IndexOf("session=", StringComparison.Ordinal) + "session=".Length)..].Split('#')[0]);
        PageForms.AssertRedirect(await subscribed.Buyer.Client.SubmitAsync(conversation, "chat", new() { ["message"] = "And on Sundays?", ["session"] = session }), conversation.Split('#')[0]);
        var both = await subscribed.Buyer.Client.HtmlAsync(conversation);
        Assert.True(both.IndexOf("What can you do for my shop?", StringComparison.Ordinal) < both.IndexOf("And on Sundays?", StringComparison.Ordinal));
        Assert.Contains("2 runs", both, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionsAreListedNewestFirst_TitledByTheirFirstQuestion()
    {
        var subscribed = await app.SubscribedAsync();
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.RunAsync(subscribed.Config, "The older question"), HttpStatusCode.OK);
        app.Clock.Advance(TimeSpan.FromSeconds(2));
        await Http.AssertStatusAsync(await subscribed.Buyer.Client.RunAsync(subscribed.Config, "The newer question"), HttpStatusCode.OK);

        var html = await subscribed.Buyer.Client.HtmlAsync($"/my-agents/{subscribed.Config}/chat");

        var newer = html.IndexOf(">The newer question</a>", StringComparison.Ordinal);
        var older = html.IndexOf(">The older question</a>", StringComparison.Ordinal);
        Assert.True(newer > 0 && older > newer, "both sessions are listed, the newer first");
    }

    [Fact]
    public async Task ARunTheWalletCannotPay_SaysSo_WithALinkToUpgrade_OnAPlanThatCannotBuyCredits()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 500 }));

        var refused = await subscribed.Buyer.Client.SubmitAsync($"/my-agents/{subscribed.Config}/chat", "chat", new() { ["message"] = "Too expensive?", ["session"] = "" });

        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        Assert.Contains("This run needs 500 credits; 350 are available.", html, StringComparison.Ordinal);
        // Free cannot buy top-ups: "Buy credits" would lead to a page with nothing to buy.
        Assert.Contains("href=\"/pricing\">Upgrade your plan for more credits</a>", html, StringComparison.Ordinal);
        Assert.Contains("data-buy-credits-url=\"/pricing\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain(">Buy credits</a>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"credit-balance-cta\">Upgrade</span>", html, StringComparison.Ordinal);
        Assert.Contains(">Too expensive?</textarea>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunTheWalletCannotPay_LinksToTheCreditPackages_OnAPlanThatCanBuyThem()
    {
        var subscribed = await app.SubscribedAsync(await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 5_000 }));
        await subscribed.Buyer.UpgradeAsync("plus");

        var refused = await subscribed.Buyer.Client.SubmitAsync($"/my-agents/{subscribed.Config}/chat", "chat", new() { ["message"] = "Still too expensive?", ["session"] = "" });

        var html = await refused.HtmlAsync();
        Assert.Contains("This run needs 5,000 credits;", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/credits#buy\">Buy credits</a>", html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"credit-balance-cta\">Buy more</span>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Upgrade your plan", html, StringComparison.Ordinal);
    }
}
