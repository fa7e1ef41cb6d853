using System.Net;
using System.Text.RegularExpressions;
using AgentMarket.Tests.Buyer;
using AgentMarket.Tests.Infrastructure;

namespace AgentMarket.Tests.Webhooks;

/// <summary>/settings/webhooks as an owner uses it without JavaScript: add an endpoint, copy its secret, test, read deliveries, redeliver.</summary>
public partial class WebhooksPageTests(WebhooksApp app) : IClassFixture<WebhooksApp>
{
    const string Page = "/settings/webhooks";

    [Fact]
    public async Task Owner_AddsAnEndpoint_SeesItsSecretOnce_TestsIt_AndRedelivers()
    {
        var owner = await app.SignUpAsync();
        var created = await PostAsync(owner.Client, Page, "create-endpoint",
            [new("url", app.Receiver.Url("page")), new("description", "Order sync"), new("events", "order.created"), new("events", "run.completed")]);
        await Http.AssertStatusAsync(created, HttpStatusCode.OK);
        Assert.Equal("no-store", created.Headers.CacheControl?.ToString());
        var html = await created.HtmlAsync();
        var secret = PageForms.Marked(html, "data-webhook-secret");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var endpoint = Guid.Parse(EndpointRow().Match(html).Groups[1].Value);
        Assert.Contains("order.created, run.completed", html, StringComparison.Ordinal);

        // Later views never show the secret again.
        Assert.DoesNotContain(secret, await owner.Client.HtmlAsync(Page), StringComparison.Ordinal);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, $"test-{endpoint}"), $"{Page}?endpoint={endpoint}&done=tested");
        var received = Assert.Single(await app.Receiver.WaitForAsync("page", 1));
        Assert.Equal(["ok webhook.test"], await StandardWebhooks.VerifyAsync(secret, [(received.Headers, received.Body)]));

        var deliveriesUrl = $"{Page}?endpoint={endpoint}";
        var delivery = Guid.Parse(DeliveryRow().Match(await owner.Client.HtmlAsync(deliveriesUrl)).Groups[1].Value);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var deliveries = await owner.Client.HtmlAsync(deliveriesUrl);
        Assert.Equal("200", PageForms.Marked(deliveries, "data-response-code"));

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(deliveriesUrl, $"redeliver-{delivery}"), $"{Page}?endpoint={endpoint}&done=redelivered");
        await app.Receiver.WaitForAsync("page", 2);
        await owner.Client.DeliveryAfterAsync(delivery, attempts: 1);
        var attempts = await owner.Client.HtmlAsync($"{deliveriesUrl}&delivery={delivery}");
        Assert.Contains("Attempts of the webhook.test delivery", attempts, StringComparison.Ordinal);

        var rotated = await owner.Client.SubmitAsync(Page, $"rotate-{endpoint}");
        var newSecret = PageForms.Marked(await rotated.HtmlAsync(), "data-webhook-secret");
        Assert.NotEqual(secret, newSecret);

        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, $"toggle-{endpoint}"), $"{Page}?done=disabled");
        Assert.Contains("disabled", PageForms.Marked(await owner.Client.HtmlAsync(Page), "data-disabled-reason"), StringComparison.OrdinalIgnoreCase);
        PageForms.AssertRedirect(await owner.Client.SubmitAsync(Page, $"delete-{endpoint}"), $"{Page}?done=deleted");
        Assert.DoesNotContain(app.Receiver.Url("page"), await owner.Client.HtmlAsync(Page), StringComparison.Ordinal);
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
