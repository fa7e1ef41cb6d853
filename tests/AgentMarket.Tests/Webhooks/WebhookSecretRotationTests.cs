using System.Net;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Webhooks;

/// <summary>
/// Rotating an endpoint's signing secret keeps every secret it showed signing through its own grace, at most two earlier
/// secrets at once (ADR-141). Verified with the Standard Webhooks reference library, at the app's (test) clock.
/// </summary>
public class WebhookSecretRotationTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    [Fact]
    public async Task RotatingTwiceInARow_SignsWithEverySecret_AndAThirdRotationEndsTheOriginal()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "twice", "order.created");
        var b = await RotateAsync(owner, endpoint.Id);
        var c = await RotateAsync(owner, endpoint.Id);

        // A double click: the secret the receiver verifies with (the original) still signs beside both new ones.
        var delivery = await DeliverAsync(owner, endpoint, 1);
        Assert.Equal(3, delivery.Signature.Split(' ').Length);
        await AssertSignedWithAsync(delivery, endpoint.Secret, b, c);

        var d = await RotateAsync(owner, endpoint.Id);
        delivery = await DeliverAsync(owner, endpoint, 2);
        Assert.Equal(3, delivery.Signature.Split(' ').Length);
        await AssertSignedWithAsync(delivery, b, c, d);
        await AssertNotSignedWithAsync(delivery, endpoint.Secret);
    }

    [Fact]
    public async Task EachEarlierSecret_SignsUntilItsOwnGraceEnds()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "grace", "order.created");
        var b = await RotateAsync(owner, endpoint.Id);
        app.Clock.Advance(TimeSpan.FromHours(2));
        var c = await RotateAsync(owner, endpoint.Id);
        var delivery = await DeliverAsync(owner, endpoint, 1);
        await AssertSignedWithAsync(delivery, endpoint.Secret, b, c);

        // The original keeps the end the first rotation gave it (24 hours), b the second rotation's (2 hours later).
        app.Clock.Advance(TimeSpan.FromHours(23));
        delivery = await DeliverAsync(owner, endpoint, 2);
        Assert.Equal(2, delivery.Signature.Split(' ').Length);
        await AssertSignedWithAsync(delivery, b, c);
        await AssertNotSignedWithAsync(delivery, endpoint.Secret);

        app.Clock.Advance(TimeSpan.FromHours(2));
        delivery = await DeliverAsync(owner, endpoint, 3);
        await AssertSignedWithAsync(delivery, c);
        await AssertNotSignedWithAsync(delivery, endpoint.Secret, b);
    }

    [Fact]
    public async Task ConcurrentRotations_SignWithTheSecretsTheyShow_OneAppliedOnTopOfAnother()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "burst", "order.created");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/rotate-secret", null)));

        List<string> shown = [];
        foreach (var response in responses)
        {
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                var problem = await Http.AssertProblemAsync(response, HttpStatusCode.Conflict, "webhook_secret_rotation_conflict");
                Assert.False(problem.TryGetProperty("secret", out _));
                continue;
            }
            shown.Add((await Http.ReadJsonAsync(response)).GetProperty("secret").GetString()!);
        }
        Assert.True(shown.Count >= 2, $"{shown.Count} of 8 concurrent rotations succeeded");

        // The next delivery is signed with the current secret and the two it replaced, all of them secrets a caller was shown.
        var delivery = await DeliverAsync(owner, endpoint, 1);
        var signatures = delivery.Signature.Split(' ').Length;
        Assert.Equal(3, signatures);
        List<string> signing = [];
        foreach (var secret in shown.Prepend(endpoint.Secret))
        {
            if (Assert.Single(await VerifyAsync(secret, delivery)).StartsWith("ok ", StringComparison.Ordinal))
            {
                signing.Add(secret);
            }
        }
        Assert.Equal(signatures, signing.Count);

        // Each rotation replaced the secret the one before it stored: one found only the original, every later one the
        // previous rotation's secret beside it. Of two rotations of one secret, both would have found only the original.
        var rotations = (await Http.ReadJsonAsync(await owner.Client.GetAsync(
                $"/api/organizations/{owner.OrganizationId}/audit/?action=webhook_endpoint.secret_rotated&target={endpoint.Id}&limit=100")))
            .GetProperty("items").EnumerateArray()
            .Select(e => e.GetProperty("after").GetProperty("earlier_secrets_valid").GetInt32())
            .Order().ToList();
        Assert.Equal([1, .. Enumerable.Repeat(2, shown.Count - 1)], rotations);
    }

    static async Task<string> RotateAsync(TestUser owner, Guid endpoint) =>
        (await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint}/rotate-secret", null)))
            .GetProperty("secret").GetString()!;

    /// <summary>Sends a test event and returns it as received: the endpoint's <paramref name="count"/>th delivery.</summary>
    async Task<ReceivedWebhook> DeliverAsync(TestUser owner, CreatedEndpoint endpoint, int count)
    {
        await owner.Client.SendTestEventAsync(endpoint.Id);
        return (await app.Receiver.WaitForAsync(endpoint.Path, count))[count - 1];
    }

    Task<IReadOnlyList<string>> VerifyAsync(string secret, ReceivedWebhook delivery) =>
        StandardWebhooks.VerifyAsync(secret, [(delivery.Headers, delivery.Body)], app.Clock.GetUtcNow());

    async Task AssertSignedWithAsync(ReceivedWebhook delivery, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.Equal(["ok webhook.test"], await VerifyAsync(secret, delivery));
        }
    }

    async Task AssertNotSignedWithAsync(ReceivedWebhook delivery, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.StartsWith("invalid", Assert.Single(await VerifyAsync(secret, delivery)), StringComparison.Ordinal);
        }
    }
}
