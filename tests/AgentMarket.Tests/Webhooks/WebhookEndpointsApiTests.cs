using System.Net;
using System.Net.Http.Json;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Webhooks;

/// <summary>The endpoint API: tenants see only their own endpoints; hostile or unsafe input is refused with a code.</summary>
public class WebhookEndpointsApiTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    static readonly string[] OrderCreated = ["order.created"];
    static readonly string[] RunEvents = ["run.completed", "run.failed"];

    [Fact]
    public async Task AnotherOrganization_CannotSeeChangeOrRedeliver_Gets404()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "mine", "order.created");
        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var stranger = await app.SignUpAsync();

        var list = await Http.ReadJsonAsync(await stranger.Client.GetAsync("/api/webhook-endpoints/"));
        Assert.Equal(0, list.GetProperty("total").GetInt32());
        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}/deliveries"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", new { description = "mine now" }), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/rotate-secret", null), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/test", null), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.GetAsync($"/api/webhook-deliveries/{delivery}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.PostAsync($"/api/webhook-deliveries/{delivery}/redeliver", null), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await stranger.Client.DeleteAsync($"/api/webhook-endpoints/{endpoint.Id}"), HttpStatusCode.NotFound, "not_found");

        // Untouched for its owner, who can redeliver and delete.
        var mine = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}"));
        Assert.Equal("", mine.GetProperty("description").GetString());
        await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-deliveries/{delivery}/redeliver", null), HttpStatusCode.Accepted);
        await app.Receiver.WaitForAsync("mine", 2);
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/webhook-endpoints/{endpoint.Id}"), HttpStatusCode.NoContent);
        await Http.AssertProblemAsync(await owner.Client.GetAsync($"/api/webhook-deliveries/{delivery}"), HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task EndpointChanges_AreAudited_InTheOrganizationsOwnLog_NeverWithASecret()
    {
        var owner = await app.SignUpAsync();
        // Receivers often put their own token in the path or query, as Slack's do.
        var (token, rotatedToken) = (Guid.NewGuid().ToString("N"), Guid.NewGuid().ToString("N"));
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, $"hooks/T0/{token}", "order.created");
        var moved = new { url = app.Receiver.Url($"hooks/T0?token={rotatedToken}"), enabled = false };
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", moved));
        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", moved)); // changes nothing
        var rotated = await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/rotate-secret", null));
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/webhook-endpoints/{endpoint.Id}"), HttpStatusCode.NoContent);

        var response = await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?target_type=webhook_endpoint&target={endpoint.Id}");
        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(endpoint.Secret, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated.GetProperty("secret").GetString()!, raw, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", raw, StringComparison.Ordinal);
        var entries = (await Http.ReadJsonAsync(response)).GetProperty("items").EnumerateArray().ToDictionary(e => e.GetProperty("action").GetString()!);
        Assert.Equal(["webhook_endpoint.created", "webhook_endpoint.deleted", "webhook_endpoint.secret_rotated", "webhook_endpoint.updated"], entries.Keys.Order());
        Assert.All(entries.Values, e => Assert.Equal((owner.Email, owner.OrganizationId), (e.GetProperty("actor").GetProperty("email").GetString(), e.GetProperty("organization").GetGuid())));

        // The log keeps the URL's site and a fingerprint of the whole, not its path and query.
        Assert.DoesNotContain(token, raw, StringComparison.Ordinal);
        Assert.DoesNotContain(rotatedToken, raw, StringComparison.Ordinal);
        var site = $"{new Uri(app.Receiver.Url("any")).GetLeftPart(UriPartial.Authority)}/…";
        var created = entries["webhook_endpoint.created"].GetProperty("after");
        Assert.Equal((site, "order.created", true),
            (created.GetProperty("url").GetString(), created.GetProperty("events").EnumerateArray().Single().GetString(), created.GetProperty("enabled").GetBoolean()));
        var updated = entries["webhook_endpoint.updated"];
        Assert.Equal(created.GetProperty("url_fingerprint").GetString(), updated.GetProperty("before").GetProperty("url_fingerprint").GetString());
        Assert.NotEqual(updated.GetProperty("before").GetProperty("url_fingerprint").GetString(), updated.GetProperty("after").GetProperty("url_fingerprint").GetString());
        Assert.Equal((true, false), (updated.GetProperty("before").GetProperty("enabled").GetBoolean(), updated.GetProperty("after").GetProperty("enabled").GetBoolean()));
        Assert.False(updated.GetProperty("after").TryGetProperty("events", out _), "events did not change");
        Assert.Equal(rotated.GetProperty("previous_secret_expires").GetDateTime(), entries["webhook_endpoint.secret_rotated"].GetProperty("after").GetProperty("previous_secret_expires").GetDateTime());
        Assert.Equal(updated.GetProperty("after").GetProperty("url_fingerprint").GetString(), entries["webhook_endpoint.deleted"].GetProperty("before").GetProperty("url_fingerprint").GetString());
    }

    [Fact]
    public async Task Redelivery_SendsTheSameMessageIdAgain_AndListsResponseCodes()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "again", "order.created");
        app.Receiver.Then("again", new WebhookReceiver.Answer(410));
        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        var failed = await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        Assert.Equal(410, failed.GetProperty("last_response_code").GetInt32());
        Assert.Equal("pending", failed.GetProperty("state").GetString());

        await Http.ReadJsonAsync(await owner.Client.PostAsync($"/api/webhook-deliveries/{delivery}/redeliver", null), HttpStatusCode.Accepted);
        var both = await app.Receiver.WaitForAsync("again", 2);
        Assert.Equal(both[0].Id, both[1].Id);
        Assert.Equal(both[0].Body, both[1].Body);

        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var log = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/webhook-endpoints/{endpoint.Id}/deliveries"));
        var listed = Assert.Single(log.GetProperty("items").EnumerateArray());
        Assert.Equal("succeeded", listed.GetProperty("state").GetString());
        Assert.Equal(200, listed.GetProperty("last_response_code").GetInt32());
        var attempts = (await owner.Client.DeliveryAsync(delivery)).GetProperty("log").EnumerateArray().Select(a => a.GetProperty("response_code").GetInt32()).ToList();
        Assert.Equal([200, 410], attempts);
    }

    [Theory]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://192.168.0.10/hook")]
    [InlineData("https://[fd00::1]/hook")]
    public async Task PrivateAddress_IsRefusedAtCreation(string url)
    {
        var owner = await app.SignUpAsync();
        var response = await owner.Client.PostAsJsonAsync("/api/webhook-endpoints/", new { url, events = OrderCreated });
        await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest, "webhook_url_not_allowed");
    }

    [Theory]
    [InlineData("""{"url": "ftp://example.com/hook", "events": ["order.created"]}""", "validation_failed")]
    [InlineData("""{"url": "http://example.com/hook", "events": ["order.created"]}""", "validation_failed")]
    [InlineData("""{"url": "https://user:pass@example.com/hook", "events": ["order.created"]}""", "validation_failed")]
    [InlineData("""{"url": "not a url", "events": ["order.created"]}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": ["order.exploded"]}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": []}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": ["webhook.test"]}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": "order.created"}""", "malformed_json")]
    [InlineData("""{"url": 42, "events": ["order.created"]}""", "malformed_json")]
    [InlineData("""{"events": ["order.created"]}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": [null]}""", "validation_failed")]
    [InlineData("""{"url": "https://example.com/hook", "events": ["order.created"], "enabled": "yes"}""", "malformed_json")]
    [InlineData("""{"url": "https://example.com/hook",""", "malformed_json")]
    [InlineData("""[]""", "malformed_json")]
    // Bodies that are not JSON of the request's shape (wrong types included) are malformed_json, as everywhere in the API.
    public async Task HostileBody_Returns400WithCode(string body, string code)
    {
        var owner = await app.SignUpAsync();
        var response = await owner.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/webhook-endpoints/", rawBody: body));
        await Http.AssertProblemAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Fact]
    public async Task OverlongUrl_AndUnknownIds_AreRefused()
    {
        var owner = await app.SignUpAsync();
        var longUrl = "https://example.com/" + new string('a', 2100);
        await Http.AssertProblemAsync(await owner.Client.PostAsJsonAsync("/api/webhook-endpoints/", new { url = longUrl, events = OrderCreated }),
            HttpStatusCode.BadRequest, "validation_failed");
        await Http.AssertProblemAsync(await owner.Client.GetAsync($"/api/webhook-endpoints/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not_found");
        await Http.AssertProblemAsync(await owner.Client.PostAsync($"/api/webhook-deliveries/{Guid.NewGuid()}/redeliver", null), HttpStatusCode.NotFound, "not_found");
        Assert.Equal(HttpStatusCode.NotFound, (await owner.Client.GetAsync("/api/webhook-endpoints/not-a-uuid")).StatusCode);
        var anonymous = app.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/webhook-endpoints/")).StatusCode);
    }

    [Fact]
    public async Task Update_ChangesEventsAndUrl_AndDisablingStopsTests()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "edited", "order.created");
        var updated = await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}",
            new { events = RunEvents, description = "Runs to the warehouse", url = app.Receiver.Url("edited-2") }));
        Assert.Equal(RunEvents, updated.GetProperty("events").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Equal(app.Receiver.Url("edited-2"), updated.GetProperty("url").GetString());

        await Http.ReadJsonAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", new { enabled = false }));
        await Http.AssertProblemAsync(await owner.Client.PostAsync($"/api/webhook-endpoints/{endpoint.Id}/test", null), HttpStatusCode.Conflict, "webhook_endpoint_disabled");
        await Http.AssertProblemAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", new { url = "https://10.0.0.1/" }),
            HttpStatusCode.BadRequest, "webhook_url_not_allowed");
    }
}
