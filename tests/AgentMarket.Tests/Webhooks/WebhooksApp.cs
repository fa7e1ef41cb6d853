using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using AgentMarket.Webhooks.Jobs;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Webhooks;

/// <summary>Webhook settings for tests: loopback receivers allowed by the operator's allow-list, short timeouts and delays.</summary>
public static class WebhookSettings
{
    public const int RetryBaseSeconds = 30;
    public const int DisableAfterFailures = 3;
    public static readonly TimeSpan DisableAfterFailingFor = TimeSpan.FromHours(1);

    public static IEnumerable<KeyValuePair<string, string?>> For(bool allowLoopback = true, bool dispatcher = true) =>
    [
        new("Flows:OutboundAllowList:0", allowLoopback ? "127.0.0.1/32" : "203.0.113.7/32"),
        new("Webhooks:DispatcherEnabled", dispatcher ? "true" : "false"),
        new("Webhooks:PollIntervalSeconds", "1"),
        new("Webhooks:TimeoutSeconds", "1"),
        new("Webhooks:LeaseSeconds", "10"),
        new("Webhooks:RetryBaseSeconds", RetryBaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Webhooks:DisableAfterConsecutiveFailures", DisableAfterFailures.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Webhooks:DisableAfterFailingFor", DisableAfterFailingFor.ToString()),
    ];

    /// <summary>Longer than any first retry delay, jitter included.</summary>
    public static TimeSpan PastFirstRetry => TimeSpan.FromSeconds(RetryBaseSeconds * 1.25);
}

/// <summary>The app with a webhook receiver on loopback, allowed by the operator's allow-list as in a test deployment.</summary>
public class WebhooksApp : AgentMarketApp
{
    readonly bool _allowLoopback;
    readonly bool _dispatcher;

    public WebhooksApp() : this(TestDatabase.Create(), ownsDatabase: true)
    {
    }

    protected WebhooksApp(TestDatabase database, bool ownsDatabase, bool allowLoopback = true, bool dispatcher = true) : base(database, ownsDatabase)
    {
        _allowLoopback = allowLoopback;
        _dispatcher = dispatcher;
    }

    public WebhookReceiver Receiver { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => WebhookSettings.For(_allowLoopback, _dispatcher);

    public override async ValueTask InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Another process on a webhooks app's database, with its own settings, as a restarted or second replica would be.</summary>
public sealed class WebhooksProcess(TestDatabase database, WebhookReceiver receiver, bool allowLoopback = true, bool dispatcher = true)
    : AgentMarketApp(database, ownsDatabase: false)
{
    public WebhookReceiver Receiver => receiver;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => WebhookSettings.For(allowLoopback, dispatcher);

    public static async Task<WebhooksProcess> StartAsync(TestDatabase database, WebhookReceiver receiver, bool allowLoopback = true, bool dispatcher = true)
    {
        var process = new WebhooksProcess(database, receiver, allowLoopback, dispatcher);
        await process.InitializeAsync();
        return process;
    }
}

/// <summary>The gateway's app (a fake model on loopback) with webhooks, for events that come from runs.</summary>
public sealed class WebhooksGatewayApp : GatewayApp
{
    public WebhookReceiver Receiver { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => base.ExtraSettings().Concat(WebhookSettings.For());

    public override async ValueTask InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

public sealed record CreatedEndpoint(Guid Id, string Secret, string Path);

public static class WebhookIntents
{
    /// <summary>Creates an endpoint at <paramref name="path"/> on the receiver, subscribed to <paramref name="events"/>.</summary>
    public static async Task<CreatedEndpoint> CreateEndpointAsync(this TestUser user, WebhookReceiver receiver, string path, params string[] events)
    {
        var created = await Http.ReadJsonAsync(
            await user.Client.PostAsJsonAsync("/api/webhook-endpoints/", new { url = receiver.Url(path), events = events.Length == 0 ? ["order.created"] : events }),
            HttpStatusCode.Created);
        return new CreatedEndpoint(created.GetProperty("uuid").GetGuid(), created.GetProperty("secret").GetString()!, path);
    }

    public static async Task<Guid> SendTestEventAsync(this HttpClient client, Guid endpoint)
    {
        var delivery = await Http.ReadJsonAsync(await client.PostAsync($"/api/webhook-endpoints/{endpoint}/test", null), HttpStatusCode.Accepted);
        return delivery.GetProperty("uuid").GetGuid();
    }

    public static async Task<JsonElement> DeliveryAsync(this HttpClient client, Guid delivery) =>
        await Http.ReadJsonAsync(await client.GetAsync($"/api/webhook-deliveries/{delivery}"));

    /// <summary>Waits until the delivery has had <paramref name="attempts"/> attempts and is not being sent (and is in <paramref name="state"/>, if given).</summary>
    public static async Task<JsonElement> DeliveryAfterAsync(this HttpClient client, Guid delivery, int attempts, string? state = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var current = await client.DeliveryAsync(delivery);
            var now = current.GetProperty("state").GetString();
            if (current.GetProperty("attempts").GetInt32() >= attempts && now != "sending" && (state is null || now == state))
            {
                return current;
            }
            Assert.True(DateTime.UtcNow < deadline, $"Delivery {delivery} is still at {current}.");
            await Task.Delay(50);
        }
    }

    /// <summary>Signs in an existing user on another process of the same database.</summary>
    public static async Task<HttpClient> SignInAsync(this AgentMarketApp app, TestUser user)
    {
        var client = app.CreateClient();
        await Http.AssertStatusAsync(await client.PostAsJsonAsync("/api/auth/signin", new { email = user.Email, password = user.Password }), HttpStatusCode.OK);
        return client;
    }

    /// <summary>One pass of the app's dispatcher, as its background loop runs it.</summary>
    public static Task<int> DispatchAsync(this AgentMarketApp app) =>
        app.Services.GetRequiredService<WebhookDispatcher>().RunOnceAsync(CancellationToken.None);
}

/// <summary>Verifies webhooks with the Standard Webhooks reference library (npm <c>standardwebhooks</c>) under node.</summary>
public static class StandardWebhooks
{
    /// <param name="now">The receiver's clock, when a test moved the app's: the library checks the timestamp against it.</param>
    public static async Task<IReadOnlyList<string>> VerifyAsync(string secret, IEnumerable<(IReadOnlyDictionary<string, string> Headers, string Body)> requests,
        DateTimeOffset? now = null)
    {
        var folder = Path.Combine(Repo.Root, "tests", "AgentMarket.Tests", "Webhooks", "node");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "standardwebhooks")),
            "Run `npm ci --prefix tests/AgentMarket.Tests/Webhooks/node` (test.sh does) to install the Standard Webhooks library.");
        var start = new ProcessStartInfo("node", "verify.mjs")
        {
            WorkingDirectory = folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(JsonSerializer.Serialize(new
        {
            secret,
            requests = requests.Select(r => new { headers = r.Headers, body = r.Body }),
            now = now?.ToUnixTimeMilliseconds(),
        }));
        node.StandardInput.Close();
        var output = await node.StandardOutput.ReadToEndAsync();
        var error = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, $"node verify.mjs failed: {error}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
