using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Doors;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Widget;

/// <summary>
/// The widget's API over HTTP: a publishable key, from one of its allowed origins, opens a short-lived session whose
/// messages run through the gateway like any door's; everything else is refused with a stable code.
/// </summary>
public class WidgetApiTests(WidgetApp app) : IClassFixture<WidgetApp>
{
    static readonly string[] WidgetPaths = ["/api/widget/sessions", "/api/widget/messages"];
    static readonly (string Path, string Method)[] PreflightedRequests =
        [("/api/widget/sessions", "POST"), ("/api/widget/messages", "POST"), ($"/api/widget/conversations/{new string('a', 32)}/messages", "GET")];

    static object AllowedOrigins(params string[] origins) => new { allowed_origins = origins };

    [Fact]
    public async Task AllowedOrigin_OpensASessionWithTheBranding_AndStreamsAnswers_ChargedAndRecordedAsWidgetRuns()
    {
        var embedded = await app.EmbeddedAsync();
        var branding = new { brand_color = "#0a7d33", logo_url = "https://shop.example/logo.png", welcome_message = "Hi! Ask me about your order." };
        await Http.AssertStatusAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/customer-agent-configs/{embedded.Config}/",
            new { name = "Shop helper", branding, widget = new { position = "bottom_left", theme = "dark" } }), HttpStatusCode.OK);
        var before = await embedded.Buyer.CreditsAsync();

        var opened = await app.CreateClient().SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey));
        var session = await Http.ReadJsonAsync(opened);
        Assert.Equal(WidgetIntents.ShopOrigin, opened.AllowedOrigin());
        Assert.Contains("Origin", opened.Headers.Vary);
        var agent = session.GetProperty("agent");
        Assert.Equal("Shop helper", agent.GetProperty("title").GetString());
        Assert.Equal(branding.brand_color, agent.GetProperty("brand_color").GetString());
        Assert.Equal(branding.logo_url, agent.GetProperty("logo_url").GetString());
        Assert.Equal(branding.welcome_message, agent.GetProperty("welcome_message").GetString());
        Assert.Equal("bottom_left", agent.GetProperty("position").GetString());
        Assert.Equal("dark", agent.GetProperty("theme").GetString());
        Assert.True(session.GetProperty("expires_at").GetDateTime() > DateTime.UtcNow);
        var token = session.GetProperty("token").GetString()!;

        const string answer = "Your parcel ships tomorrow morning.";
        app.Model.When("Where is my parcel?", FakeReply.Say(answer) with { ChunkSize = 5 });
        var streamed = await app.SendAsync(token, "Where is my parcel?", stream: true);
        await Http.AssertStatusAsync(streamed, HttpStatusCode.OK);
        Assert.Equal(WidgetIntents.ShopOrigin, streamed.AllowedOrigin());
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        var events = ServerSentEvents.Parse(await streamed.Content.ReadAsStringAsync());
        var tokens = events.Where(e => e.Name == "token").Select(e => e.Data.GetProperty("chunk").GetString()).ToList();
        Assert.True(tokens.Count > 1, "the answer streams in several chunks");
        Assert.Equal(answer, string.Concat(tokens));
        var end = Assert.Single(events, e => e.Name == "end").Data;
        Assert.Equal(answer, end.GetProperty("output").GetString());
        // A visitor never learns the buyer's balance or what the run cost.
        Assert.False(end.TryGetProperty("balance", out _));
        Assert.False(end.TryGetProperty("credits_charged", out _));

        var json = await Http.ReadJsonAsync(await app.SendAsync(token, "And the return policy?"));
        Assert.Equal("I am the default answer.", json.GetProperty("output").GetString());

        var runs = await app.RunsAsync(embedded.Buyer.OrganizationId, embedded.Config);
        Assert.Equal(2, runs.Count);
        Assert.All(runs, run => Assert.Equal("widget", run.Door));
        Assert.All(runs, run => Assert.Equal(embedded.KeyId, run.KeyId));
        Assert.Single(runs.Select(r => r.SessionId).Distinct());
        Assert.Equal(before - runs.Sum(r => r.CreditsCharged), await embedded.Buyer.CreditsAsync());
        Assert.True(runs.Sum(r => r.CreditsCharged) > 0);
    }

    [Fact]
    public async Task History_GivesTheTokensOwnConversationInOrder_AndNoOneElses()
    {
        var embedded = await app.EmbeddedAsync();
        var session = await app.OpenSessionAsync(embedded.PublishableKey);
        const string answer = "Returns are free within thirty days.";
        app.Model.When("What is the returns window?", FakeReply.Say(answer));
        await Http.AssertStatusAsync(await app.SendAsync(session.Token, "Has my order left?"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await app.SendAsync(session.Token, "What is the returns window?", stream: true), HttpStatusCode.OK);

        // A reload reopens the session with the stored ids and reads the conversation back, oldest first.
        var reopened = await app.OpenSessionAsync(embedded.PublishableKey, visitorId: session.VisitorId, conversationId: session.ConversationId);
        var history = await app.HistoryAsync(reopened.Token, reopened.ConversationId);
        var body = await Http.ReadJsonAsync(history);
        Assert.Equal(WidgetIntents.ShopOrigin, history.AllowedOrigin());
        Assert.Equal(
            [("user", "Has my order left?"), ("agent", "I am the default answer."), ("user", "What is the returns window?"), ("agent", answer)],
            body.GetProperty("messages").EnumerateArray().Select(m => (m.GetProperty("sender").GetString(), m.GetProperty("text").GetString())));

        // Another conversation of the same visitor and key starts empty and cannot name the first one.
        var other = await app.OpenSessionAsync(embedded.PublishableKey, visitorId: session.VisitorId);
        Assert.Empty((await Http.ReadJsonAsync(await app.HistoryAsync(other.Token, other.ConversationId))).GetProperty("messages").EnumerateArray());
        await Http.AssertProblemAsync(await app.HistoryAsync(other.Token, session.ConversationId), HttpStatusCode.NotFound, "not_found");

        // Another organization's widget, even claiming the same visitor and conversation ids, reads only its own subscription.
        var theirs = await app.EmbeddedAsync();
        var impostor = await app.OpenSessionAsync(theirs.PublishableKey, visitorId: session.VisitorId, conversationId: session.ConversationId);
        Assert.Empty((await Http.ReadJsonAsync(await app.HistoryAsync(impostor.Token, session.ConversationId))).GetProperty("messages").EnumerateArray());
        var theirSession = await app.OpenSessionAsync(theirs.PublishableKey);
        await Http.AssertProblemAsync(await app.HistoryAsync(theirSession.Token, session.ConversationId), HttpStatusCode.NotFound, "not_found");

        // The token's rules hold here as for messages: its origin only, and a token at all.
        await Http.AssertProblemAsync(await app.HistoryAsync(session.Token, session.ConversationId, "https://evil.example"), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await app.HistoryAsync(null, session.ConversationId), HttpStatusCode.Unauthorized, "widget_session_invalid");
        await Http.AssertProblemAsync(await app.HistoryAsync("not-a-token", session.ConversationId), HttpStatusCode.Unauthorized, "widget_session_invalid");
    }

    [Fact]
    public async Task Preflight_IsAnsweredForAllowedOriginsOnly()
    {
        var embedded = await app.EmbeddedAsync(origins: "https://allowed-preflight.example");
        foreach (var (path, method) in PreflightedRequests)
        {
            var allowed = await app.CreateClient().SendAsync(Preflight(path, method, "https://allowed-preflight.example"));
            Assert.Equal(HttpStatusCode.NoContent, allowed.StatusCode);
            Assert.Equal("https://allowed-preflight.example", allowed.AllowedOrigin());
            Assert.Contains("x-widget-session", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
            Assert.False(allowed.Headers.Contains("Access-Control-Allow-Credentials"));

            Assert.Contains(method, allowed.Headers.GetValues("Access-Control-Allow-Methods").Single(), StringComparison.Ordinal);

            var refused = await app.CreateClient().SendAsync(Preflight(path, method, "https://evil.example"));
            await Http.AssertProblemAsync(refused, HttpStatusCode.Forbidden, "origin_not_allowed");
            Assert.Null(refused.AllowedOrigin());
        }
        Assert.NotNull(embedded.PublishableKey);

        static HttpRequestMessage Preflight(string path, string method, string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, path);
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", method);
            request.Headers.Add("Access-Control-Request-Headers", "content-type,x-widget-session");
            return request;
        }
    }

    [Fact]
    public async Task WrongOrMissingOrigin_GetsNoSession_AndATokenWorksOnlyFromItsOrigin()
    {
        var embedded = await app.EmbeddedAsync(origins: [WidgetIntents.ShopOrigin, "https://blog.shop.example:8443"]);
        var client = app.CreateClient();

        var wrong = await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey, "https://evil.example"));
        await Http.AssertProblemAsync(wrong, HttpStatusCode.Forbidden, "origin_not_allowed");
        Assert.Null(wrong.AllowedOrigin());
        // Scheme and port are part of the origin.
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey, "http://shop.example")), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey, "https://blog.shop.example")), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey, origin: null)), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey, "null")), HttpStatusCode.Forbidden, "origin_not_allowed");
        var blog = await app.OpenSessionAsync(embedded.PublishableKey, "https://blog.shop.example:8443");

        var session = await app.OpenSessionAsync(embedded.PublishableKey);
        var elsewhere = await app.SendAsync(session.Token, "Hello", "https://evil.example");
        await Http.AssertProblemAsync(elsewhere, HttpStatusCode.Forbidden, "origin_not_allowed");
        Assert.Null(elsewhere.AllowedOrigin());
        await Http.AssertProblemAsync(await app.SendAsync(session.Token, "Hello", origin: null), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertStatusAsync(await app.SendAsync(session.Token, "Hello"), HttpStatusCode.OK);

        // Taking an origin off the list stops its pages at once, sessions already open included.
        var updated = await Http.ReadJsonAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{embedded.KeyId}",
            AllowedOrigins("HTTPS://Blog.Shop.Example:8443/")));
        Assert.Equal(["https://blog.shop.example:8443"], updated.GetProperty("allowed_origins").EnumerateArray().Select(o => o.GetString()));
        await Http.AssertProblemAsync(await app.SendAsync(session.Token, "Hello"), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey)), HttpStatusCode.Forbidden, "origin_not_allowed");
        await Http.AssertStatusAsync(await app.SendAsync(blog.Token, "Hello", "https://blog.shop.example:8443"), HttpStatusCode.OK);
        Assert.Equal(2, (await app.RunsAsync(embedded.Buyer.OrganizationId, embedded.Config)).Count);
    }

    [Fact]
    public async Task MissingInvalidOrExpiredTokens_AndDeadKeys_AreRefusedWithStableCodes()
    {
        var embedded = await app.EmbeddedAsync();
        var session = await app.OpenSessionAsync(embedded.PublishableKey);

        await Http.AssertProblemAsync(await app.SendAsync(null, "Hello"), HttpStatusCode.Unauthorized, "widget_session_invalid");
        var unreadable = await app.SendAsync("not-a-token", "Hello");
        await Http.AssertProblemAsync(unreadable, HttpStatusCode.Unauthorized, "widget_session_invalid");
        // The widget on an allowed page can read it, and opens a new session; another site learns nothing.
        Assert.Equal(WidgetIntents.ShopOrigin, unreadable.AllowedOrigin());
        Assert.Null((await app.SendAsync("not-a-token", "Hello", "https://evil.example")).AllowedOrigin());
        await Http.AssertProblemAsync(await app.SendAsync(session.Token[..^4] + "AAAA", "Hello"), HttpStatusCode.Unauthorized, "widget_session_invalid");
        await Http.AssertProblemAsync(await app.SendAsync(new string('a', 5_000), "Hello"), HttpStatusCode.Unauthorized, "widget_session_invalid");

        // Keys that are not a live publishable key open nothing: unknown, malformed, or a secret key (which must never be in a page).
        var client = app.CreateClient();
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest("am_pub_" + new string('x', 43))), HttpStatusCode.Unauthorized, "widget_key_invalid");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest("hello")), HttpStatusCode.Unauthorized, "widget_key_invalid");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(null)), HttpStatusCode.Unauthorized, "widget_key_invalid");
        await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.Subscribed.Key)), HttpStatusCode.Unauthorized, "widget_key_invalid");

        app.Clock.Advance(TimeSpan.FromMinutes(21));
        try
        {
            var expired = await app.SendAsync(session.Token, "Hello");
            await Http.AssertProblemAsync(expired, HttpStatusCode.Unauthorized, "widget_session_expired");
            // The widget can read the refusal, so it knows to open a new session.
            Assert.Equal(WidgetIntents.ShopOrigin, expired.AllowedOrigin());
            var renewed = await app.OpenSessionAsync(embedded.PublishableKey, visitorId: session.VisitorId, conversationId: session.ConversationId);
            Assert.Equal(session.VisitorId, renewed.VisitorId);
            Assert.Equal(session.ConversationId, renewed.ConversationId);
            await Http.AssertStatusAsync(await app.SendAsync(renewed.Token, "Hello again"), HttpStatusCode.OK);

            // Revoking the key stops it at once, sessions already open included.
            await Http.AssertStatusAsync(await embedded.Buyer.Client.DeleteAsync($"/api/agent-api-keys/{embedded.KeyId}"), HttpStatusCode.NoContent);
            await Http.AssertProblemAsync(await app.SendAsync(renewed.Token, "Still there?"), HttpStatusCode.Unauthorized, "widget_key_invalid");
            await Http.AssertProblemAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey)), HttpStatusCode.Unauthorized, "widget_key_invalid");
        }
        finally
        {
            app.Clock.Advance(TimeSpan.FromMinutes(-21));
        }
        Assert.Single(await app.RunsAsync(embedded.Buyer.OrganizationId, embedded.Config));
    }

    [Fact]
    public async Task VisitorsAreRateLimited_AndSoIsTheKey_WithRetryAfter()
    {
        var embedded = await app.EmbeddedAsync();
        var visitor = await app.OpenSessionAsync(embedded.PublishableKey);
        for (var i = 0; i < WidgetApp.VisitorMessagesPerMinute; i++)
        {
            await Http.AssertStatusAsync(await app.SendAsync(visitor.Token, $"Message {i}"), HttpStatusCode.OK);
        }
        var limited = await app.SendAsync(visitor.Token, "One too many");
        await Http.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.NotNull(limited.Headers.RetryAfter);
        Assert.Equal(WidgetIntents.ShopOrigin, limited.AllowedOrigin());
        // A new session for the same visitor does not reset the visitor's limit; another visitor has their own.
        var again = await app.OpenSessionAsync(embedded.PublishableKey, visitorId: visitor.VisitorId);
        await Http.AssertProblemAsync(await app.SendAsync(again.Token, "Still me"), HttpStatusCode.TooManyRequests, "rate_limited");
        var other = await app.OpenSessionAsync(embedded.PublishableKey);
        await Http.AssertStatusAsync(await app.SendAsync(other.Token, "Someone else"), HttpStatusCode.OK);

        // The key's own rate limit covers all its visitors together.
        var limitedKey = await app.EmbeddedAsync(new { rate_limit_per_minute = 2 });
        var results = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            var session = await app.OpenSessionAsync(limitedKey.PublishableKey);
            results.Add((await app.SendAsync(session.Token, $"Visitor {i}")).StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], results);
    }

    [Fact]
    public async Task SessionsPerAddress_AreLimited()
    {
        var embedded = await app.EmbeddedAsync();
        var client = app.CreateClient();
        for (var i = 0; i < WidgetApp.SessionsPerMinutePerAddress; i++)
        {
            await Http.AssertStatusAsync(await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey)), HttpStatusCode.OK);
        }
        var limited = await client.SendAsync(WidgetIntents.OpenSessionRequest(embedded.PublishableKey));
        await Http.AssertProblemAsync(limited, HttpStatusCode.TooManyRequests, "rate_limited");
        Assert.NotNull(limited.Headers.RetryAfter);
    }

    [Fact]
    public async Task SessionCreditCap_StopsAConversation_WithoutTellingTheVisitorTheBuyersBalance()
    {
        var embedded = await app.EmbeddedAsync();
        await Http.AssertStatusAsync(await embedded.Buyer.Client.PatchAsJsonAsync("/api/credits/settings/", new { session_credit_cap = 12 }), HttpStatusCode.OK);
        var session = await app.OpenSessionAsync(embedded.PublishableKey);
        await Http.AssertStatusAsync(await app.SendAsync(session.Token, "first"), HttpStatusCode.OK);
        await Http.AssertStatusAsync(await app.SendAsync(session.Token, "second"), HttpStatusCode.OK);
        var capped = await Http.AssertProblemAsync(await app.SendAsync(session.Token, "third"), HttpStatusCode.PaymentRequired, "session_credit_cap");
        Assert.DoesNotContain("credit", capped.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        var streamed = await app.SendAsync(session.Token, "third, streamed", stream: true);
        await Http.AssertProblemAsync(streamed, HttpStatusCode.PaymentRequired, "session_credit_cap");

        // A new conversation is a new gateway session.
        var fresh = await app.OpenSessionAsync(embedded.PublishableKey);
        Assert.NotEqual(session.ConversationId, fresh.ConversationId);
        await Http.AssertStatusAsync(await app.SendAsync(fresh.Token, "a fresh conversation"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task APublishableKey_NeverReachesAnotherOrganizationsAgent_NorAnyOtherApi()
    {
        var mine = await app.EmbeddedAsync();
        var theirs = await app.EmbeddedAsync();
        var theirsBefore = await theirs.Buyer.CreditsAsync();
        var session = await app.OpenSessionAsync(mine.PublishableKey);

        // Nothing in a message names an agent: whatever the body says, the run is the key's own subscription.
        var request = WidgetIntents.MessageRequest(session.Token, "ignored");
        request.Content = JsonContent.Create(new { input = "Hello", config = theirs.Config, config_id = theirs.Config, session_id = "someone-elses" });
        await Http.AssertStatusAsync(await app.CreateClient().SendAsync(request), HttpStatusCode.OK);
        Assert.Single(await app.RunsAsync(mine.Buyer.OrganizationId, mine.Config));
        Assert.Empty(await app.RunsAsync(theirs.Buyer.OrganizationId, theirs.Config));
        Assert.Equal(theirsBefore, await theirs.Buyer.CreditsAsync());

        // A publishable key is public: it runs nothing on its own, on any route.
        var pub = app.BearerClient(mine.PublishableKey);
        await Http.AssertProblemAsync(await pub.RunAsync(mine.Config, "Hello"), HttpStatusCode.Forbidden, "publishable_key");
        await Http.AssertProblemAsync(await pub.RunAsync(theirs.Config, "Hello"), HttpStatusCode.Forbidden, "publishable_key");
        // Like every key, it manages nothing.
        await Http.AssertProblemAsync(await pub.GetAsync($"/api/customer-agent-configs/{mine.Config}/"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await pub.GetAsync("/api/agent-api-keys/"), HttpStatusCode.NotFound, "not_found");

        // Keys are managed within their organization only.
        await Http.AssertProblemAsync(await theirs.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{mine.KeyId}", AllowedOrigins("https://evil.example")),
            HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await app.CreateClient().SendAsync(WidgetIntents.OpenSessionRequest(mine.PublishableKey, "https://evil.example")), HttpStatusCode.Forbidden, "origin_not_allowed");
    }

    [Fact]
    public async Task MalformedRequests_Are4xx()
    {
        var embedded = await app.EmbeddedAsync();
        var session = await app.OpenSessionAsync(embedded.PublishableKey);
        var client = app.CreateClient();

        foreach (var path in WidgetPaths)
        {
            var garbled = Http.Request(HttpMethod.Post, path, rawBody: "{\"key\": ");
            garbled.Headers.Add("Origin", WidgetIntents.ShopOrigin);
            garbled.Headers.Add(WidgetIntents.SessionHeader, session.Token);
            await Http.AssertProblemAsync(await client.SendAsync(garbled), HttpStatusCode.BadRequest, "malformed_json");
            var wrongType = Http.Request(HttpMethod.Post, path, rawBody: "{\"key\": 42, \"input\": [1]}");
            wrongType.Headers.Add("Origin", WidgetIntents.ShopOrigin);
            wrongType.Headers.Add(WidgetIntents.SessionHeader, session.Token);
            var response = await client.SendAsync(wrongType);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
        await Http.AssertProblemAsync(await app.SendAsync(session.Token, "   "), HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await app.SendAsync(session.Token, new string('x', 4_001)), HttpStatusCode.BadRequest, "validation_failed");

        await Http.AssertProblemAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{embedded.KeyId}", AllowedOrigins("https://*.shop.example")),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{embedded.KeyId}", AllowedOrigins("https://shop.example/path")),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{embedded.KeyId}", AllowedOrigins()),
            HttpStatusCode.BadRequest, "validation_failed");
        var secretKeyId = (await Http.ReadJsonAsync(await embedded.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={embedded.Config}"))).GetProperty("items")
            .EnumerateArray().First(k => k.GetProperty("kind").GetString() == "secret").GetProperty("uuid").GetGuid();
        await Http.AssertProblemAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{secretKeyId}", AllowedOrigins(WidgetIntents.ShopOrigin)),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await embedded.Buyer.Client.PatchAsJsonAsync($"/api/agent-api-keys/{Guid.NewGuid()}", AllowedOrigins(WidgetIntents.ShopOrigin)),
            HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await embedded.Buyer.Client.SendAsync(Http.Request(HttpMethod.Patch, $"/api/agent-api-keys/{embedded.KeyId}", rawBody: "{\"allowed_origins\": \"x\"}")),
            HttpStatusCode.BadRequest, "malformed_json");
        Assert.Empty(await app.RunsAsync(embedded.Buyer.OrganizationId, embedded.Config));
    }
}
