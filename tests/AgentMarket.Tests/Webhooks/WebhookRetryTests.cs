using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Webhooks;

/// <summary>Failed attempts are retried later (500s and timeouts alike); an endpoint that keeps failing is disabled, and says why.</summary>
public class WebhookRetryTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    [Fact]
    public async Task ServerError_IsRetriedAfterTheBackOff_WithTheSameMessage()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "flaky", "order.created");
        app.Receiver.Then("flaky", new WebhookReceiver.Answer(500));

        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        var failed = await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        Assert.Equal("pending", failed.GetProperty("state").GetString());
        Assert.Equal(500, failed.GetProperty("last_response_code").GetInt32());
        var attempt = Assert.Single(failed.GetProperty("log").EnumerateArray());
        Assert.Equal("receiver says 500", attempt.GetProperty("response_body").GetString());
        var wait = failed.GetProperty("next_attempt").GetDateTime() - failed.GetProperty("last_attempt").GetDateTime();
        Assert.InRange(wait.TotalSeconds, WebhookSettings.RetryBaseSeconds * (1 - WebhookRetrySchedule.Jitter) - 1, WebhookSettings.RetryBaseSeconds * (1 + WebhookRetrySchedule.Jitter) + 1);
        Assert.Single(app.Receiver.At("flaky"));

        app.Clock.Advance(WebhookSettings.PastFirstRetry);
        var both = await app.Receiver.WaitForAsync("flaky", 2);
        Assert.Equal(both[0].Id, both[1].Id);
        var succeeded = await owner.Client.DeliveryAfterAsync(delivery, attempts: 2);
        Assert.Equal("succeeded", succeeded.GetProperty("state").GetString());
        Assert.Equal([200, 500], succeeded.GetProperty("log").EnumerateArray().Select(a => a.GetProperty("response_code").GetInt32()).ToArray());
    }

    [Fact]
    public async Task SlowReceiver_TimesOut_AndIsRetried()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "slow", "order.created");
        app.Receiver.Then("slow", new WebhookReceiver.Answer(200, TimeSpan.FromSeconds(5)));

        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        var timedOut = await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        Assert.Equal("pending", timedOut.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, timedOut.GetProperty("last_response_code").ValueKind);
        Assert.Contains("longer than", timedOut.GetProperty("last_error").GetString(), StringComparison.Ordinal);

        app.Clock.Advance(WebhookSettings.PastFirstRetry);
        await app.Receiver.WaitForAsync("slow", 2);
        Assert.Equal("succeeded", (await owner.Client.DeliveryAfterAsync(delivery, attempts: 2)).GetProperty("state").GetString());
    }

    [Fact]
    public async Task EndpointFailingEveryAttemptForLong_IsDisabled_WithTheReason_AndCanBeEnabledAgain()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "down", "order.created");
        app.Receiver.Always("down", new WebhookReceiver.Answer(503));

        // Failures in a quick burst do not disable it: the failures must also span the configured period.
        var first = await owner.Client.SendTestEventAsync(endpoint.Id);
        var second = await owner.Client.SendTestEventAsync(endpoint.Id);
        var third = await owner.Client.SendTestEventAsync(endpoint.Id);
        foreach (var delivery in new[] { first, second, third })
        {
            await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        }
        Assert.True((await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}"))).GetProperty("enabled").GetBoolean());

        app.Clock.Advance(WebhookSettings.DisableAfterFailingFor + TimeSpan.FromMinutes(1));
        var disabled = await EndpointOnceDisabledAsync(owner.Client, endpoint.Id);
        Assert.Contains("Disabled automatically", disabled.GetProperty("disabled_reason").GetString(), StringComparison.Ordinal);

        // Nothing more is sent to it; what was waiting is closed and can be redelivered once it is enabled again.
        foreach (var delivery in new[] { first, second, third })
        {
            await owner.Client.DeliveryAfterAsync(delivery, attempts: 1, state: "failed");
        }
        await Http.AssertProblemAsync(await owner.Client.PostAsync($"/api/webhook-deliveries/{second}/redeliver", null), HttpStatusCode.Conflict, "webhook_endpoint_disabled");

        app.Receiver.Always("down", new WebhookReceiver.Answer(204));
        var enabled = await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", new { enabled = true }));
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabled_reason").ValueKind);
        var before = app.Receiver.At("down").Count;
        await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-deliveries/{second}/redeliver", null), HttpStatusCode.Accepted);
        await app.Receiver.WaitForAsync("down", before + 1);
        Assert.Equal("succeeded", (await owner.Client.DeliveryAfterAsync(second, attempts: 1)).GetProperty("state").GetString());

        // The owners were told by email why it stopped.
        var mail = await app.InScopeAsync(null, async services =>
            await services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>().OutboxEmails
                .Where(m => m.Recipient == owner.Email && m.Subject == "A webhook endpoint was disabled").Select(m => m.Body).ToListAsync());
        Assert.Contains(app.Receiver.Url("down"), Assert.Single(mail), StringComparison.Ordinal);

        // ... and the organization's audit log says the platform did it, and why.
        var log = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?action=webhook_endpoint.disabled"));
        var entry = Assert.Single(log.GetProperty("items").EnumerateArray());
        Assert.Equal(endpoint.Id.ToString(), entry.GetProperty("target").GetProperty("id").GetString());
        Assert.Equal(JsonValueKind.Null, entry.GetProperty("actor").GetProperty("uuid").ValueKind);
        Assert.Equal(disabled.GetProperty("disabled_reason").GetString(), entry.GetProperty("after").GetProperty("reason").GetString());
    }

    static async Task<JsonElement> EndpointOnceDisabledAsync(HttpClient client, Guid endpoint)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var current = await Http.ReadJsonAsync(await client.GetAsync($"/api/webhook-endpoints/{endpoint}"));
            if (!current.GetProperty("enabled").GetBoolean())
            {
                return current;
            }
            Assert.True(DateTime.UtcNow < deadline, $"The endpoint is still enabled: {current}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public void RetrySchedule_DoublesWithJitter_UpToTheCap()
    {
        var baseDelay = TimeSpan.FromSeconds(10);
        var cap = TimeSpan.FromHours(6);
        Assert.Equal(TimeSpan.FromSeconds(8), WebhookRetrySchedule.Delay(1, baseDelay, cap, 0));
        Assert.Equal(TimeSpan.FromSeconds(20), WebhookRetrySchedule.Delay(2, baseDelay, cap, 0.5));
        Assert.Equal(TimeSpan.FromSeconds(48), WebhookRetrySchedule.Delay(3, baseDelay, cap, 1));
        Assert.Equal(cap, WebhookRetrySchedule.Delay(20, baseDelay, cap, 0.5));
        Assert.Equal(cap, WebhookRetrySchedule.Delay(int.MaxValue, baseDelay, cap, 0.5));
    }
}
