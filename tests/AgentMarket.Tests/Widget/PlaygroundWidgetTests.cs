using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Credits;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Widget;

/// <summary>
/// The agent page's playground is the widget: it opens its session without a key, on the marketplace's own origin only,
/// with the page's cookies deciding who runs — a visitor within the free tries, or a signed-in member paying per run.
/// </summary>
public class PlaygroundWidgetTests(WidgetApp app) : IClassFixture<WidgetApp>
{
    [Fact]
    public async Task AVisitor_OnTheAgentPage_ChatsWithinTheFreeTries_SharedWithThePlaygroundEndpoint()
    {
        var agent = await app.PromptAgentAsync();
        var visitor = app.CreateClient();
        var own = OwnOrigin(visitor);

        var opened = await visitor.SendAsync(OpenRequest(agent.Slug, own));
        var session = await Http.ReadJsonAsync(opened);
        Assert.Equal(agent.Name, session.GetProperty("agent").GetProperty("title").GetString());
        // The visitor is the page's own (HttpOnly) cookie; the page is not told its value.
        Assert.Equal(System.Text.Json.JsonValueKind.Null, session.GetProperty("visitor_id").ValueKind);
        Assert.Contains(opened.Headers.GetValues("Set-Cookie"), c => c.StartsWith("am_visitor=", StringComparison.Ordinal));
        var token = session.GetProperty("token").GetString()!;

        var first = await Http.ReadJsonAsync(await visitor.SendAsync(WidgetIntents.MessageRequest(token, "hello", own)));
        Assert.Equal("I am the default answer.", first.GetProperty("output").GetString());
        Assert.Equal(0, first.GetProperty("credits_charged").GetInt64());
        Assert.Equal(2, first.GetProperty("trial_runs_left").GetInt32());
        var streamed = await visitor.SendAsync(WidgetIntents.MessageRequest(token, "hello again", own, stream: true));
        var end = Assert.Single(ServerSentEvents.Parse(await streamed.Content.ReadAsStringAsync()), e => e.Name == "end").Data;
        Assert.Equal(1, end.GetProperty("trial_runs_left").GetInt32());

        // The allowance is the visitor's, whichever way the playground is reached.
        await Http.AssertStatusAsync(await visitor.PostAsJsonAsync($"/api/marketplace/agents/{agent.Slug}/try/", new { input = "third" }), HttpStatusCode.OK);
        var refused = await visitor.SendAsync(WidgetIntents.MessageRequest(token, "fourth", own));
        await Http.AssertProblemAsync(refused, HttpStatusCode.TooManyRequests, "trial_limit");
        Assert.NotNull(refused.Headers.RetryAfter);

        // A playground conversation is not redrawn on reload: there is no history to read.
        await Http.AssertProblemAsync(await visitor.SendAsync(HistoryRequest(token, session.GetProperty("conversation_id").GetString()!, own)), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task ASignedInMember_PaysPerRun_AndSeesWhyARunIsRefused()
    {
        var agent = await app.PromptAgentAsync();
        var member = await app.SignUpAsync();
        var own = OwnOrigin(member.Client);
        var token = await OpenAsync(member.Client, agent.Slug, own);

        var answer = await Http.ReadJsonAsync(await member.Client.SendAsync(WidgetIntents.MessageRequest(token, "hello", own)));
        Assert.Equal(5, answer.GetProperty("credits_charged").GetInt64());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, answer.GetProperty("trial_runs_left").ValueKind);
        Assert.Equal(345, (await member.BalanceAsync()).GetProperty("balance").GetInt64());

        // The person chatting is the one paying, so a refusal says what it needs (unlike a website's widget).
        var expensive = await app.PromptAgentAsync(new { model = "fixed_credits", credits_per_run = 500 });
        var expensiveToken = await OpenAsync(member.Client, expensive.Slug, own);
        var problem = await Http.AssertProblemAsync(await member.Client.SendAsync(WidgetIntents.MessageRequest(expensiveToken, "hello", own)),
            HttpStatusCode.PaymentRequired, "insufficient_credits");
        Assert.Equal("This run needs 500 credits; 345 are available.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task OtherOrigins_UnknownAgents_AndAnotherPersonsToken_AreRefused()
    {
        var agent = await app.PromptAgentAsync();
        var member = await app.SignUpAsync();
        var own = OwnOrigin(member.Client);

        // Only the marketplace's own pages open a playground session; another site gets no CORS answer either.
        var elsewhere = await member.Client.SendAsync(OpenRequest(agent.Slug, WidgetIntents.ShopOrigin));
        await Http.AssertProblemAsync(elsewhere, HttpStatusCode.Forbidden, "origin_not_allowed");
        Assert.Null(elsewhere.AllowedOrigin());
        await Http.AssertProblemAsync(await member.Client.SendAsync(OpenRequest(agent.Slug, origin: null)), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await member.Client.SendAsync(OpenRequest("no-such-agent", own)), HttpStatusCode.NotFound, "not_found");

        var token = await OpenAsync(member.Client, agent.Slug, own);
        await Http.AssertProblemAsync(await member.Client.SendAsync(WidgetIntents.MessageRequest(token, "hello", WidgetIntents.ShopOrigin)), HttpStatusCode.Forbidden, "origin_not_allowed");
        // A member's token is worth nothing without the member's own sign-in: the widget opens a new session instead.
        await Http.AssertProblemAsync(await app.CreateClient().SendAsync(WidgetIntents.MessageRequest(token, "hello", own)), HttpStatusCode.Unauthorized, "widget_session_invalid");
        var other = await app.SignUpAsync();
        await Http.AssertProblemAsync(await other.Client.SendAsync(WidgetIntents.MessageRequest(token, "hello", own)), HttpStatusCode.Unauthorized, "widget_session_invalid");
        Assert.Equal(350, (await member.BalanceAsync()).GetProperty("balance").GetInt64());
        Assert.Equal(350, (await other.BalanceAsync()).GetProperty("balance").GetInt64());

        // Nor does a visitor's token turn into a member's run.
        var visitorToken = await OpenAsync(app.CreateClient(), agent.Slug, own);
        await Http.AssertProblemAsync(await member.Client.SendAsync(WidgetIntents.MessageRequest(visitorToken, "hello", own)), HttpStatusCode.Unauthorized, "widget_session_invalid");
    }

    static string OwnOrigin(HttpClient client) => client.BaseAddress!.GetLeftPart(UriPartial.Authority);

    static HttpRequestMessage OpenRequest(string agent, string? origin)
    {
        var request = Http.Request(HttpMethod.Post, "/api/widget/sessions", json: new { agent });
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    static HttpRequestMessage HistoryRequest(string token, string conversationId, string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/widget/conversations/{conversationId}/messages");
        request.Headers.Add("Origin", origin);
        request.Headers.Add(WidgetIntents.SessionHeader, token);
        return request;
    }

    static async Task<string> OpenAsync(HttpClient client, string agent, string origin) =>
        (await Http.ReadJsonAsync(await client.SendAsync(OpenRequest(agent, origin)))).GetProperty("token").GetString()!;
}
