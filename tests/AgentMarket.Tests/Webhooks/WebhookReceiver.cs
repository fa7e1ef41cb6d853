using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Tests.Webhooks;

/// <summary>A webhook as it arrived: path, the three Standard Webhooks headers and the raw body.</summary>
public sealed record ReceivedWebhook(string Path, string Id, string Timestamp, string Signature, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    public string Type => Json.GetProperty("type").GetString()!;
    public JsonElement Data => Json.GetProperty("data");

    public Dictionary<string, string> Headers => new()
    {
        ["webhook-id"] = Id,
        ["webhook-timestamp"] = Timestamp,
        ["webhook-signature"] = Signature,
    };
}

/// <summary>
/// A real HTTP receiver on Kestrel at 127.0.0.1 (a random port) that records every request. Each path answers 200 unless
/// a test scripts other answers for it: a status, or a delay longer than the app's delivery timeout.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    public sealed record Answer(int Status, TimeSpan Delay = default);

    readonly WebApplication _app;
    readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    readonly ConcurrentDictionary<string, ConcurrentQueue<Answer>> _scripted = new();
    readonly ConcurrentDictionary<string, Answer> _always = new();

    WebhookReceiver(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", receiver.ReceiveAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return receiver;
    }

    /// <summary>The URL of one path on this receiver, e.g. <c>http://127.0.0.1:5123/orders</c>.</summary>
    public string Url(string path) => new Uri(BaseUrl, path).ToString();

    /// <summary>The next requests to <paramref name="path"/> get these answers, in order; later ones get 200.</summary>
    public void Then(string path, params Answer[] answers)
    {
        var queue = _scripted.GetOrAdd("/" + path, _ => new());
        foreach (var answer in answers)
        {
            queue.Enqueue(answer);
        }
    }

    /// <summary>Every request to <paramref name="path"/> gets <paramref name="answer"/>.</summary>
    public void Always(string path, Answer answer) => _always["/" + path] = answer;

    public IReadOnlyList<ReceivedWebhook> At(string path) => [.. _received.Where(r => r.Path == "/" + path)];

    /// <summary>Waits until <paramref name="path"/> has received <paramref name="count"/> requests (or fails after a generous bound).</summary>
    public async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string path, int count, Func<Task>? nudge = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (At(path).Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{path} received {At(path).Count} of {count} webhooks.");
            if (nudge is not null)
            {
                await nudge();
            }
            await Task.Delay(50);
        }
        return At(path);
    }

    async Task ReceiveAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        var path = context.Request.Path.Value!;
        var answer = _scripted.TryGetValue(path, out var queue) && queue.TryDequeue(out var next) ? next
            : _always.TryGetValue(path, out var always) ? always : new Answer(200);
        _received.Enqueue(new ReceivedWebhook(path, context.Request.Headers["webhook-id"].ToString(), context.Request.Headers["webhook-timestamp"].ToString(),
            context.Request.Headers["webhook-signature"].ToString(), body));
        if (answer.Delay > TimeSpan.Zero)
        {
            await Task.Delay(answer.Delay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        context.Response.StatusCode = answer.Status;
        await context.Response.WriteAsync(answer.Status >= 400 ? $"receiver says {answer.Status}" : "ok");
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
