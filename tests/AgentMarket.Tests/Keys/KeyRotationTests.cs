using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Keys;

/// <summary>Rotating an agent key keeps every secret it showed working through its grace, at most two at once (ADR-141).</summary>
public class KeyRotationTests(GatewayApp app) : IClassFixture<GatewayApp>
{
    [Fact]
    public async Task RotatingTwiceInARow_KeepsEverySecretWorking_AndAThirdRotationEndsTheOldest()
    {
        var subscribed = await app.SubscribedAsync();
        var keyId = await KeyIdAsync(subscribed);
        var a = subscribed.Key;
        var b = (await RotateAsync(subscribed, keyId, graceHours: 2)).Secret;
        var c = (await RotateAsync(subscribed, keyId, graceHours: 1)).Secret;

        // A double click: the secret deployed (a) still works beside both new ones.
        await AssertWorksAsync(subscribed, a, b, c);

        var (d, graceUntil) = await RotateAsync(subscribed, keyId, graceHours: 3);
        await AssertRefusedAsync(subscribed, a);
        await AssertWorksAsync(subscribed, b, c, d);
        // PostgreSQL keeps microseconds, the response all of the clock's ticks.
        Assert.Equal(graceUntil!.Value, (await KeyAsync(subscribed, keyId)).GetProperty("earlier_secrets_until").GetDateTime(), TimeSpan.FromMilliseconds(1));

        // b keeps the end its own rotation gave it (an hour), c the third rotation's (three hours).
        app.Clock.Advance(TimeSpan.FromMinutes(61));
        await AssertRefusedAsync(subscribed, b);
        await AssertWorksAsync(subscribed, c, d);

        app.Clock.Advance(TimeSpan.FromHours(2));
        await AssertRefusedAsync(subscribed, c);
        await AssertWorksAsync(subscribed, d);
        Assert.Equal(JsonValueKind.Null, (await KeyAsync(subscribed, keyId)).GetProperty("earlier_secrets_until").ValueKind);
    }

    [Fact]
    public async Task ARotationWithoutGrace_EndsEveryEarlierSecretAtOnce()
    {
        var subscribed = await app.SubscribedAsync();
        var keyId = await KeyIdAsync(subscribed);
        var b = (await RotateAsync(subscribed, keyId, graceHours: null)).Secret;
        var c = (await RotateAsync(subscribed, keyId, graceHours: null)).Secret;
        await AssertWorksAsync(subscribed, subscribed.Key, b, c);

        var (d, graceUntil) = await RotateAsync(subscribed, keyId, graceHours: 0);

        Assert.Null(graceUntil);
        await AssertRefusedAsync(subscribed, subscribed.Key, b, c);
        await AssertWorksAsync(subscribed, d);
        Assert.Equal(JsonValueKind.Null, (await KeyAsync(subscribed, keyId)).GetProperty("earlier_secrets_until").ValueKind);
    }

    [Fact]
    public async Task ConcurrentRotations_StoreEverySecretTheyShow_AndAtMostThreeWork()
    {
        var subscribed = await app.SubscribedAsync();
        var keyId = await KeyIdAsync(subscribed);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            subscribed.Buyer.Client.PostAsJsonAsync($"/api/agent-api-keys/{keyId}/regenerate/", new { })));

        List<string> shown = [];
        foreach (var response in responses)
        {
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                var problem = await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "key_rotation_conflict");
                Assert.False(problem.TryGetProperty("key", out _));
                continue;
            }
            shown.Add((await Http.ReadJsonAsync(response)).GetProperty("key").GetString()!);
        }
        Assert.True(shown.Count >= 2, $"{shown.Count} of 8 concurrent rotations succeeded");

        // Each rotation replaced the secret the one before it showed: the log chains from the first secret through every
        // secret shown, so none was overwritten unseen.
        var rotations = (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync(
                $"/api/organizations/{subscribed.Buyer.OrganizationId}/audit/?action=agent_key.rotated&target={keyId}&limit=100")))
            .GetProperty("items").EnumerateArray()
            .Select(e => (Before: e.GetProperty("before").GetProperty("prefix").GetString()!, After: e.GetProperty("after").GetProperty("prefix").GetString()!))
            .ToList();
        Assert.Equal(shown.Count, rotations.Count);
        // Two rotations of one secret: the later write replaced the earlier one's secret, which was shown and never stored.
        Assert.Equal(rotations.Count, rotations.Select(r => r.Before).Distinct().Count());
        var replacedBy = rotations.ToDictionary(r => r.Before, r => r.After);
        List<string> chain = [Prefix(subscribed.Key)];
        while (replacedBy.TryGetValue(chain[^1], out var next))
        {
            chain.Add(next);
        }
        Assert.Equal(shown.Select(Prefix).Order(), chain.Skip(1).Order());

        // The current secret and the two it replaced work; every earlier one was ended by the rotations after it.
        var secrets = shown.Prepend(subscribed.Key).ToDictionary(Prefix);
        var working = chain.TakeLast(3).Select(p => secrets[p]).ToArray();
        await AssertWorksAsync(subscribed, working);
        await AssertRefusedAsync(subscribed, chain.SkipLast(3).Select(p => secrets[p]).ToArray());
        Assert.Equal(chain[^1], (await KeyAsync(subscribed, keyId)).GetProperty("prefix").GetString());
    }

    [Fact]
    public async Task RevokingARotatedKey_EndsEverySecret()
    {
        var subscribed = await app.SubscribedAsync();
        var keyId = await KeyIdAsync(subscribed);
        var b = (await RotateAsync(subscribed, keyId, graceHours: null)).Secret;
        var c = (await RotateAsync(subscribed, keyId, graceHours: null)).Secret;
        await AssertWorksAsync(subscribed, subscribed.Key, b, c);

        await Http.AssertStatusAsync(await subscribed.Buyer.Client.DeleteAsync($"/api/agent-api-keys/{keyId}/"), HttpStatusCode.NoContent);

        await AssertRefusedAsync(subscribed, subscribed.Key, b, c);
        await Http.AssertProblemAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/agent-api-keys/{keyId}/regenerate/", new { }),
            HttpStatusCode.NotFound, "not_found");
    }

    static string Prefix(string secret) => secret[.."am_live_xxxxxx".Length];

    static async Task<Guid> KeyIdAsync(Subscribed subscribed) =>
        (await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/?config={subscribed.Config}")))
            .GetProperty("items")[0].GetProperty("uuid").GetGuid();

    static async Task<JsonElement> KeyAsync(Subscribed subscribed, Guid keyId) =>
        await Http.ReadJsonAsync(await subscribed.Buyer.Client.GetAsync($"/api/agent-api-keys/{keyId}"));

    static async Task<(string Secret, DateTime? GraceUntil)> RotateAsync(Subscribed subscribed, Guid keyId, int? graceHours)
    {
        var rotated = await Http.ReadJsonAsync(await subscribed.Buyer.Client.PostAsJsonAsync($"/api/agent-api-keys/{keyId}/regenerate/",
            new { grace_hours = graceHours }));
        var grace = rotated.GetProperty("grace_until");
        return (rotated.GetProperty("key").GetString()!, grace.ValueKind == JsonValueKind.Null ? null : grace.GetDateTime());
    }

    /// <summary>Each secret runs the agent.</summary>
    async Task AssertWorksAsync(Subscribed subscribed, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            await Http.AssertStatusAsync(await app.BearerClient(secret).RunAsync(subscribed.Config, "still works?"), HttpStatusCode.OK);
        }
    }

    /// <summary>Each secret is refused (and runs nothing).</summary>
    async Task AssertRefusedAsync(Subscribed subscribed, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            await Http.AssertStatusAsync(await app.BearerClient(secret).RunAsync(subscribed.Config, "still works?"), HttpStatusCode.Unauthorized);
        }
    }
}
