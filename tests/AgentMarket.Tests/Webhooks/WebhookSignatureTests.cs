using System.Net;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Webhooks;

/// <summary>What a receiver gets is verifiable with the Standard Webhooks reference library, before and after a secret rotation.</summary>
public class WebhookSignatureTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    [Fact]
    public async Task TestEvent_VerifiesWithTheStandardWebhooksLibrary()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "signed", "order.created");
        Assert.StartsWith("whsec_", endpoint.Secret, StringComparison.Ordinal);

        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        var received = Assert.Single(await app.Receiver.WaitForAsync("signed", 1));

        var verdicts = await StandardWebhooks.VerifyAsync(endpoint.Secret, [(received.Headers, received.Body)]);
        Assert.Equal(["ok webhook.test"], verdicts);
        var logged = await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        Assert.Equal("succeeded", logged.GetProperty("state").GetString());
        Assert.Equal(200, logged.GetProperty("last_response_code").GetInt32());
        Assert.Equal(received.Id, logged.GetProperty("event").GetGuid().ToString());
        Assert.Equal(endpoint.Id.ToString(), received.Data.GetProperty("endpoint").GetString());

        // A body changed on the way, or another endpoint's secret, does not verify.
        var other = await owner.CreateEndpointAsync(app.Receiver, "other", "order.created");
        var tampered = await StandardWebhooks.VerifyAsync(endpoint.Secret, [(received.Headers, received.Body.Replace("test", "tset", StringComparison.Ordinal))]);
        var wrongSecret = await StandardWebhooks.VerifyAsync(other.Secret, [(received.Headers, received.Body)]);
        Assert.StartsWith("invalid", Assert.Single(tampered), StringComparison.Ordinal);
        Assert.StartsWith("invalid", Assert.Single(wrongSecret), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RotatedSecret_BothSecretsVerifyDuringTheGracePeriod()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "rotated", "order.created");

        var rotated = await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/rotate-secret", null));
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(endpoint.Secret, newSecret);
        Assert.StartsWith("whsec_", newSecret, StringComparison.Ordinal);

        await owner.Client.SendTestEventAsync(endpoint.Id);
        var received = Assert.Single(await app.Receiver.WaitForAsync("rotated", 1));
        Assert.Equal(2, received.Signature.Split(' ').Length);
        Assert.Equal(["ok webhook.test"], await StandardWebhooks.VerifyAsync(newSecret, [(received.Headers, received.Body)]));
        Assert.Equal(["ok webhook.test"], await StandardWebhooks.VerifyAsync(endpoint.Secret, [(received.Headers, received.Body)]));

        // The secret is shown at creation and rotation only: reading the endpoint never returns it.
        var read = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}"));
        Assert.False(read.TryGetProperty("secret", out _));
        Assert.DoesNotContain(newSecret, read.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoredSecret_IsEncrypted()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "at-rest", "order.created");
        var stored = await app.InScopeAsync(owner.OrganizationId, async services =>
        {
            var db = services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
            return await db.WebhookEndpoints.Where(e => e.Id == endpoint.Id).Select(e => e.SecretCiphertext).SingleAsync();
        });
        Assert.DoesNotContain(endpoint.Secret["whsec_".Length..], stored, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}")).StatusCode);
    }
}
