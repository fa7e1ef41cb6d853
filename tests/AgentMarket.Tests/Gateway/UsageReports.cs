using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Gateway;

/// <summary>A provider's id and usage secret: what its runtime signs usage reports with.</summary>
public sealed record ProviderSecret(Guid Id, string Secret)
{
    /// <summary>Creates (or rotates) the usage secret of the seller's provider.</summary>
    public static async Task<ProviderSecret> CreateAsync(HttpClient seller)
    {
        var provider = await Http.ReadJsonAsync(await seller.GetAsync("/api/providers/mine/"));
        var secret = await Http.ReadJsonAsync(await seller.PostAsync("/api/providers/mine/usage-secret/", null), HttpStatusCode.Created);
        return new(provider.GetProperty("uuid").GetGuid(), secret.GetProperty("secret").GetString()!);
    }
}

/// <summary>Usage reports as a provider's runtime sends them to <c>POST /api/runtime/usage/</c>.</summary>
static class UsageReports
{
    public static Dictionary<string, object?> Report(Guid config, string status = "succeeded", long inputTokens = 120, string? eventId = null) => new()
    {
        ["event_id"] = eventId ?? $"evt_{Guid.NewGuid():N}",
        ["customer_agent_config"] = config,
        ["status"] = status,
        ["input_tokens"] = inputTokens,
        ["output_tokens"] = 80,
        ["latency_ms"] = 950,
        ["model"] = "provider-model",
    };

    /// <summary>Signs as the documented scheme says, independently of the server's code: hex HMAC-SHA256 of "t.body".</summary>
    public static HttpRequestMessage Signed(Guid provider, string secret, byte[] body, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        var request = Unsigned(provider, body);
        request.Headers.Add("AgentMarket-Signature", $"t={timestamp},v1={signature}");
        return request;
    }

    public static HttpRequestMessage Unsigned(Guid provider, byte[] body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/runtime/usage/") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("AgentMarket-Provider", provider.ToString());
        return request;
    }

    /// <summary>Posts <paramref name="report"/> signed at <paramref name="at"/>.</summary>
    public static Task<HttpResponseMessage> PostSignedAsync(this AgentMarketApp app, ProviderSecret provider, object report, DateTimeOffset at) =>
        app.CreateClient().SendAsync(Signed(provider.Id, provider.Secret, JsonSerializer.SerializeToUtf8Bytes(report), at));
}
