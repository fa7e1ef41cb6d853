using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Webhooks;

namespace AgentMarket.Tests.Webhooks;

/// <summary>/settings/webhooks as an owner uses it without JavaScript: add an endpoint, copy its secret, test, read deliveries, redeliver.</summary>
public partial class WebhooksPageTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    const string Page = "/settings/webhooks";

    [Fact]
    public async Task EventTypes_ListEachTypesPayloadFields_OnThePageAndInTheApi()
    {
        var owner = await app.SignUpAsync();

        var html = await owner.Client.HtmlAsync(Page);
        var listing = (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/webhook-event-types/"))).EnumerateArray().ToList();

        Assert.Equal(WebhookEventTypes.All.Select(t => t.Name), listing.Select(t => t.GetProperty("name").GetString()));
        foreach (var type in WebhookEventTypes.All)
        {
            Assert.NotEmpty(type.Fields);
            Assert.Equal(type.Fields.Count, type.Fields.Select(f => f.Name).Distinct().Count());
            var section = Regex.Match(html, $"<details data-event-type=\"{Regex.Escape(type.Name)}\">.*?</details>", RegexOptions.Singleline);
            Assert.True(section.Success, $"no fields shown for {type.Name}");
            var rows = Regex.Matches(section.Value, "<tr><td><code data-payload-field[^>]*>([^<]*)</code></td><td>([^<]*)</td></tr>")
                .Select(m => new WebhookPayloadField(m.Groups[1].Value, m.Groups[2].Value));
            Assert.Equal(type.Fields, rows);
            var fields = listing.Single(t => t.GetProperty("name").GetString() == type.Name).GetProperty("fields").EnumerateArray()
                .Select(f => new WebhookPayloadField(f.GetProperty("name").GetString()!, f.GetProperty("meaning").GetString()!));
            Assert.Equal(type.Fields, fields);
        }
    }

    [Fact]
    public async Task Owner_AddsAnEndpoint_SeesItsSecretOnce_TestsIt_AndRedelivers()
    {
        var owner = await app.SignUpAsync();
        var created = await PostAsync(owner.Client, Page, "create-endpoint",
            [new("url", app.Receiver.Url("page")), new("description", "Order sync"), new("events", "order.created"), new("events", "run.completed")]);
        // Post/redirect/get: a refresh reads the page again instead of adding a second endpoint. The secret goes to the
        // next view in a short-lived cookie for this page only, never in the URL.
        PageForms.AssertRedirect(created, Page);
        var cookie = Assert.Single(created.Headers.GetValues("Set-Cookie"), c => c.StartsWith("AgentMarket.WebhookSecretShownOnce=", StringComparison.Ordinal));
        Assert.Contains($"path={Page}", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("whsec_", cookie, StringComparison.Ordinal);
        var shown = await owner.Client.GetAsync(Page);
        Assert.Equal("no-store", shown.Headers.CacheControl?.ToString());
        var html = await shown.HtmlAsync();
        var secret = PageForms.Marked(html, "data-webhook-secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var endpoint = Guid.Parse(Assert.Single(EndpointRow().Matches(html)).Groups[1].Value);
        Assert.Contains("order.created, run.completed", html, StringComparison.Ordinal);

        // Later views never show the secret again.
        Assert.DoesNotContain(secret, await owner.Client.HtmlAsync(Page), StringComparison.Ordinal);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, "endpoint-action", new() { ["test"] = endpoint.ToString() }), $"{Page}?endpoint={endpoint}&done=tested");
        var received = Assert.Single(await app.Receiver.WaitForAsync("page", 1));
        Assert.Equal(["ok webhook.test"], await StandardWebhooks.VerifyAsync(secret, [(received.Headers, received.Body)]));

        var deliveriesUrl = $"{Page}?endpoint={endpoint}";
        var delivery = Guid.Parse(DeliveryRow().Match(await owner.Client.HtmlAsync(deliveriesUrl)).Groups[1].Value);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var deliveries = await owner.Client.HtmlAsync(deliveriesUrl);
        Assert.Equal("200", PageForms.Marked(deliveries, "data-response-code"));

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(deliveriesUrl, "delivery-action", new() { ["redeliver"] = delivery.ToString() }), $"{Page}?endpoint={endpoint}&done=redelivered");
        await app.Receiver.WaitForAsync("page", 2);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var attempts = await owner.Client.HtmlAsync($"{deliveriesUrl}&delivery={delivery}");
        Assert.Contains("Attempts of the webhook.test delivery", attempts, StringComparison.Ordinal);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, "endpoint-action", new() { ["rotate"] = endpoint.ToString() }), Page);
        var newSecret = PageForms.Marked(await owner.Client.HtmlAsync(Page), "data-webhook-secret");
        Assert.NotEqual(secret, newSecret);
        Assert.DoesNotContain(newSecret, await owner.Client.HtmlAsync(Page), StringComparison.Ordinal);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, "endpoint-action", new() { ["disable"] = endpoint.ToString() }), $"{Page}?done=disabled");
        Assert.Contains("disabled", PageForms.Marked(await owner.Client.HtmlAsync(Page), "data-disabled-reason"), StringComparison.OrdinalIgnoreCase);
        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, "endpoint-action", new() { ["delete"] = endpoint.ToString() }), $"{Page}?done=deleted");
        Assert.DoesNotContain(app.Receiver.Url("page"), await owner.Client.HtmlAsync(Page), StringComparison.Ordinal);

        // Audited as through the API: created, secret rotated, disabled, deleted.
        var audit = await Http.ReadJsonAsync(await owner.Client.GetAsync($"/api/organizations/{owner.OrganizationId}/audit/?target_type=webhook_endpoint&target={endpoint}"));
        Assert.Equal(["webhook_endpoint.created", "webhook_endpoint.deleted", "webhook_endpoint.secret_rotated", "webhook_endpoint.updated"],
            audit.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Order());
    }

    [Fact]
    public async Task PrivateUrl_IsRefusedWithTheReason_AndTheFormKeepsWhatWasTyped()
    {
        var owner = await app.SignUpAsync();
        var refused = await PostAsync(owner.Client, Page, "create-endpoint", [new("url", "https://10.20.30.40/hook"), new("events", "order.created")]);
        await Http.AssertStatusAsync(refused, HttpStatusCode.OK);
        var html = await refused.HtmlAsync();
        Assert.Contains("role=\"alert\"", html, StringComparison.Ordinal);
        Assert.Contains("10.20.30.40 is a private", html, StringComparison.Ordinal);
        Assert.Contains("value=\"https://10.20.30.40/hook\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-webhook-secret", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnotherOrganization_DoesNotSeeTheEndpointOrItsDeliveries()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "private-page", "order.created");
        var stranger = await app.SignUpAsync();
        var html = await stranger.Client.HtmlAsync($"{Page}?endpoint={endpoint.Id}");
        Assert.DoesNotContain(app.Receiver.Url("private-page"), html, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"deliveries\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEndpointDeletedOrDisabledAfterThePageWasRead_IsSaidSo_WhateverButtonThePageStillShows_AndNothingIsSent()
    {
        var owner = await app.SignUpAsync();
        var endpoint = await owner.CreateEndpointAsync(app.Receiver, "stale-page", "order.created");
        var delivery = await owner.Client.SendTestEventAsync(endpoint.Id);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var deliveriesUrl = $"{Page}?endpoint={endpoint.Id}";
        var page = await owner.Client.HtmlAsync(deliveriesUrl);
        Assert.Contains($"name=\"redeliver\" value=\"{delivery}\"", page, StringComparison.Ordinal);

        // Disabled meanwhile: the page's Redeliver and Send test event still post their forms, and are told why nothing is sent.
        await Http.AssertStatusAsync(await owner.Client.PatchAsJsonAsync($"/api/webhook-endpoints/{endpoint.Id}", new { enabled = false }), HttpStatusCode.OK);
        foreach (var (form, field) in new[] { ("delivery-action", "redeliver"), ("endpoint-action", "test") })
        {
            var refused = await owner.Client.SubmitFromPageAsync(deliveriesUrl, page, form, new() { [field] = (field == "test" ? endpoint.Id : delivery).ToString() });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains("That endpoint is disabled: enable it first. Nothing was sent.", await refused.HtmlAsync(), StringComparison.Ordinal);
        }
        var disable = await owner.Client.SubmitFromPageAsync(deliveriesUrl, page, "endpoint-action", new() { ["disable"] = endpoint.Id.ToString() });
        Assert.Contains("That endpoint is already disabled: nothing changed.", await disable.HtmlAsync(), StringComparison.Ordinal);

        // Deleted meanwhile: every button of its row, and Redeliver of its deliveries, say so.
        await Http.AssertStatusAsync(await owner.Client.DeleteAsync($"/api/webhook-endpoints/{endpoint.Id}"), HttpStatusCode.NoContent);
        foreach (var field in new[] { "test", "rotate", "disable", "delete" })
        {
            var refused = await owner.Client.SubmitFromPageAsync(deliveriesUrl, page, "endpoint-action", new() { [field] = endpoint.Id.ToString() });
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            var html = await refused.HtmlAsync();
            Assert.Contains("That endpoint no longer exists: it was deleted meanwhile. Nothing changed.", html, StringComparison.Ordinal);
            Assert.DoesNotContain("data-webhook-secret", html, StringComparison.Ordinal);
        }
        var redeliver = await owner.Client.SubmitFromPageAsync(deliveriesUrl, page, "delivery-action", new() { ["redeliver"] = delivery.ToString() });
        Assert.Equal(HttpStatusCode.OK, redeliver.StatusCode);
        Assert.Contains("That delivery no longer exists: its endpoint was deleted meanwhile. Nothing was sent.", await redeliver.HtmlAsync(), StringComparison.Ordinal);
        Assert.Single(await app.Receiver.WaitForAsync("stale-page", 1));
        Assert.Equal(0, (await Http.ReadJsonAsync(await owner.Client.GetAsync("/api/webhook-endpoints/"))).GetProperty("total").GetInt32());
    }

    static async Task<HttpResponseMessage> PostAsync(HttpClient client, string url, string form, List<KeyValuePair<string, string>> fields)
    {
        var page = await client.GetAsync(url);
        await Http.AssertStatusAsync(page, HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync();
        fields.Add(new("_handler", form));
        fields.Add(new("__RequestVerificationToken", Forms.HiddenValue(html, "__RequestVerificationToken")));
        return await client.PostAsync(url, new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("data-endpoint=\"([0-9a-f-]{36})\"")]
    private static partial Regex EndpointRow();

    [GeneratedRegex("data-delivery=\"([0-9a-f-]{36})\"")]
    private static partial Regex DeliveryRow();
}
