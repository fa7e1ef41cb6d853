using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Widget;

/// <summary>The gateway app with the widget's per-visitor and per-address limits low enough to reach in a test.</summary>
public sealed class WidgetApp : GatewayApp
{
    public const int VisitorMessagesPerMinute = 4;
    public const int SessionsPerMinutePerAddress = 8;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        .. base.ExtraSettings(),
        new("Widget:VisitorMessagesPerMinute", VisitorMessagesPerMinute.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Widget:SessionsPerMinutePerAddress", SessionsPerMinutePerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];
}

/// <summary>A subscription with a publishable key for <see cref="WidgetIntents.ShopOrigin"/>.</summary>
public sealed record Embedded(Subscribed Subscribed, Guid KeyId, string PublishableKey)
{
    public TestUser Buyer => Subscribed.Buyer;
    public Guid Config => Subscribed.Config;
}

public sealed record WidgetSession(string Token, string VisitorId, string ConversationId, JsonElement Body);

public static class WidgetIntents
{
    public const string ShopOrigin = "https://shop.example";
    public const string SessionHeader = "X-Widget-Session";

    public static async Task<Embedded> EmbeddedAsync(this AgentMarketApp app, object? key = null, params string[] origins)
    {
        var subscribed = await app.SubscribedAsync();
        var body = new Dictionary<string, object?> { ["kind"] = "publishable", ["allowed_origins"] = origins.Length > 0 ? origins : new[] { ShopOrigin } };
        foreach (var property in key?.GetType().GetProperties() ?? [])
        {
            body[JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name)] = property.GetValue(key);
        }
        body["config"] = subscribed.Config;
        body["name"] = "widget";
        var created = await Http.ReadJsonAsync(await subscribed.Buyer.Client.PostAsJsonAsync("/api/agent-api-keys/", body), HttpStatusCode.Created);
        return new Embedded(subscribed, created.GetProperty("uuid").GetGuid(), created.GetProperty("key").GetString()!);
    }

    public static HttpRequestMessage OpenSessionRequest(string? key, string? origin = ShopOrigin, string? visitorId = null, string? conversationId = null)
    {
        var request = Http.Request(HttpMethod.Post, "/api/widget/sessions", json: new { key, visitor_id = visitorId, conversation_id = conversationId });
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        return request;
    }

    public static async Task<WidgetSession> OpenSessionAsync(this AgentMarketApp app, string key, string origin = ShopOrigin, string? visitorId = null, string? conversationId = null)
    {
        var body = await Http.ReadJsonAsync(await app.CreateClient().SendAsync(OpenSessionRequest(key, origin, visitorId, conversationId)));
        return new WidgetSession(body.GetProperty("token").GetString()!, body.GetProperty("visitor_id").GetString()!, body.GetProperty("conversation_id").GetString()!, body);
    }

    public static HttpRequestMessage MessageRequest(string? token, string input, string? origin = ShopOrigin, bool stream = false)
    {
        var request = Http.Request(HttpMethod.Post, "/api/widget/messages", json: new { input });
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (token is not null)
        {
            request.Headers.Add(SessionHeader, token);
        }
        if (stream)
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
        }
        return request;
    }

    public static Task<HttpResponseMessage> SendAsync(this AgentMarketApp app, string? token, string input, string? origin = ShopOrigin, bool stream = false) =>
        app.CreateClient().SendAsync(MessageRequest(token, input, origin, stream));

    public static Task<HttpResponseMessage> HistoryAsync(this AgentMarketApp app, string? token, string conversationId, string? origin = ShopOrigin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/widget/conversations/{conversationId}/messages");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (token is not null)
        {
            request.Headers.Add(SessionHeader, token);
        }
        return app.CreateClient().SendAsync(request);
    }

    public static string? AllowedOrigin(this HttpResponseMessage response) =>
        response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null;
}
