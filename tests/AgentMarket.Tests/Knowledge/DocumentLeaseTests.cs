using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentMarket.Knowledge;
using AgentMarket.Knowledge.Jobs;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Knowledge;

/// <summary>
/// The knowledge app with an embeddings endpoint that answers only when the test lets it, and a document processor
/// whose timers (its lease heartbeat) fire when the test moves the clock rather than as real time passes.
/// </summary>
public sealed class LeaseKnowledgeApp : KnowledgeApp
{
    HeldEmbeddings? _embeddings;

    public HeldEmbeddings Embeddings => _embeddings ?? throw new InvalidOperationException("The embeddings endpoint has not started.");

    public SteppedClock ProcessorClock { get; }

    public LeaseKnowledgeApp() => ProcessorClock = new SteppedClock(Clock);

    public override async ValueTask InitializeAsync()
    {
        _embeddings = await HeldEmbeddings.StartAsync();
        await base.InitializeAsync();
    }

    protected override IEnumerable<KeyValuePair<string, string?>> KnowledgeSettings() =>
    [
        new("Llm:BaseUrl", Embeddings.BaseUrl.ToString()),
        new("Knowledge:EmbeddingModel", "held-embedding"),
    ];

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddScoped(provider => ActivatorUtilities.CreateInstance<DocumentProcessor>(provider, ProcessorClock)));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_embeddings is not null)
        {
            await _embeddings.DisposeAsync();
        }
    }
}

/// <summary>The app's time, with timers that fire only when <see cref="Advance"/> moves it past them.</summary>
public sealed class SteppedClock(TestClock clock) : TimeProvider
{
    readonly Lock _gate = new();
    readonly List<SteppedTimer> _timers = [];
    TaskCompletionSource _timersChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();

    /// <summary>
    /// Completes once a timer is set to fire at or before <paramref name="by"/>: the code under test is waiting on the
    /// clock, so moving it that far reaches its callback rather than racing the code's next <c>Task.Delay</c>.
    /// </summary>
    public async Task TimerDueByAsync(DateTimeOffset by)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_timers.Any(t => t.DueUtc <= by))
                {
                    return;
                }
                changed = _timersChanged.Task;
            }
            await changed.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Under <see cref="_gate"/>: wakes whoever waits in <see cref="TimerDueByAsync"/>.</summary>
    void TimersChanged()
    {
        _timersChanged.TrySetResult();
        _timersChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SteppedTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the app's clock and runs the callbacks of the timers now due.</summary>
    public void Advance(TimeSpan by)
    {
        clock.Advance(by);
        var now = GetUtcNow();
        List<SteppedTimer> due;
        lock (_gate)
        {
            due = [.. _timers.Where(t => t.DueUtc <= now)];
            foreach (var timer in due)
            {
                timer.Fired();
            }
        }
        foreach (var timer in due)
        {
            timer.Run();
        }
    }

    public sealed class SteppedTimer(SteppedClock clock, TimerCallback callback, object? state) : ITimer
    {
        TimeSpan _period = Timeout.InfiniteTimeSpan;

        internal DateTimeOffset DueUtc { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                _period = period;
                if (dueTime != Timeout.InfiniteTimeSpan)
                {
                    DueUtc = clock.GetUtcNow() + dueTime;
                    clock._timers.Add(this);
                }
                clock.TimersChanged();
            }
            return true;
        }

        /// <summary>Under the clock's lock: the next due time, or off for a one-shot timer.</summary>
        internal void Fired()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                clock._timers.Remove(this);
            }
            else
            {
                DueUtc += _period;
            }
        }

        internal void Run() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>An OpenAI-compatible embeddings endpoint that, while held, answers nothing until released: a slow model.</summary>
public sealed class HeldEmbeddings : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly Lock _gate = new();
    readonly List<string> _inputs = [];
    TaskCompletionSource _released = Released();
    TaskCompletionSource _requested = new(TaskCreationOptions.RunContinuationsAsynchronously);

    HeldEmbeddings(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every text the endpoint was asked to embed, in order.</summary>
    public IReadOnlyList<string> Inputs
    {
        get
        {
            lock (_gate)
            {
                return [.. _inputs];
            }
        }
    }

    /// <summary>Completes when a request has arrived since <see cref="Hold"/>.</summary>
    public Task Requested => _requested.Task.WaitAsync(TimeSpan.FromSeconds(30));

    public static async Task<HeldEmbeddings> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new HeldEmbeddings(app);
        app.MapPost("/v1/embeddings", server.EmbedAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = new Uri(address.TrimEnd('/') + "/v1/");
        return server;
    }

    public void Hold()
    {
        lock (_gate)
        {
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _requested = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Release() => _released.TrySetResult();

    static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource();
        released.SetResult();
        return released;
    }

    async Task EmbedAsync(HttpContext context)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var body = document.RootElement;
        var input = body.GetProperty("input");
        List<string> texts = input.ValueKind == JsonValueKind.Array ? [.. input.EnumerateArray().Select(text => text.GetString() ?? "")] : [input.GetString() ?? ""];
        Task released;
        lock (_gate)
        {
            _inputs.AddRange(texts);
            _requested.TrySetResult();
            released = _released.Task;
        }
        await released.WaitAsync(context.RequestAborted);
        var base64 = body.TryGetProperty("encoding_format", out var format) && format.GetString() == "base64";
        float[] vector = [1f, 0f, 0f];
        var data = new JsonArray([.. texts.Select((_, index) => (JsonNode)new JsonObject
        {
            ["object"] = "embedding",
            ["index"] = index,
            ["embedding"] = base64
                ? Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan()))
                : new JsonArray([.. vector.Select(value => (JsonNode)value)]),
        })]);
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["object"] = "list",
            ["data"] = data,
            ["model"] = "held-embedding",
            ["usage"] = new JsonObject { ["prompt_tokens"] = texts.Count, ["total_tokens"] = texts.Count },
        });
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _app.DisposeAsync();
    }
}

/// <summary>
/// A processor keeps its claim on a document for as long as it works on it, by renewing the lease: another processor
/// does not take over a document that is merely slow, so it is extracted and embedded once (ADR-150).
/// </summary>
public class DocumentLeaseTests(LeaseKnowledgeApp app) : IClassFixture<LeaseKnowledgeApp>
{
    Task<DateTime?> LeaseEndAsync(Guid document) =>
        app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().TrainingDocuments.Where(d => d.Id == document).Select(d => d.ClaimExpiresUtc).SingleAsync());

    /// <summary>Waits for the processor's heartbeat to extend the lease to a full lease from <paramref name="from"/>.</summary>
    async Task AssertLeaseRenewedAsync(Guid document, DateTimeOffset from, TimeSpan lease)
    {
        // Less a millisecond: PostgreSQL keeps microseconds. Before the renewal the lease ends a third of it earlier.
        var wanted = from.UtcDateTime + lease - TimeSpan.FromMilliseconds(1);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        DateTime? ends;
        while ((ends = await LeaseEndAsync(document)) < wanted && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        Assert.True(ends >= wanted, $"The lease ends {ends:O}; renewed at {from:O}, it would end at {wanted:O} or later.");
    }

    [Fact]
    public async Task ADocumentProcessedForLongerThanTheLease_IsNotTakenOver_AndIsEmbeddedOnce()
    {
        var buyer = await app.SignUpAsync();
        var knowledgeBase = await buyer.CreateKnowledgeBaseAsync();
        var document = (await buyer.AddTopicAsync(knowledgeBase, "Opening hours", "The axolotl shop opens at nine and closes at five.")).Uuid();
        var lease = TimeSpan.FromMinutes(app.Services.GetRequiredService<IOptions<KnowledgeOptions>>().Value.ProcessingLeaseMinutes);
        var job = app.Services.GetRequiredService<DocumentProcessingJob>();

        app.Embeddings.Hold();
        var first = job.RunOnceAsync(CancellationToken.None);
        await app.Embeddings.Requested;

        // The first processor waits on the model for longer than its lease, in thirds, renewing it each time.
        var beat = lease / 3 + TimeSpan.FromSeconds(1);
        for (var i = 0; i < 3; i++)
        {
            var renewedFrom = app.Clock.GetUtcNow() + beat;
            // The heartbeat sets its next timer only after the previous renewal committed.
            await app.ProcessorClock.TimerDueByAsync(renewedFrom);
            app.ProcessorClock.Advance(beat);
            await AssertLeaseRenewedAsync(document, renewedFrom, lease);
        }
        Assert.Equal(0, await job.RunOnceAsync(CancellationToken.None));
        app.Embeddings.Release();

        Assert.Equal(1, await first);
        var processed = await buyer.DocumentAsync(document);
        Assert.Equal("ready", processed.State());
        var chunks = await KnowledgeDatabase.ChunkCountAsync(app, document);
        Assert.Equal(processed.GetProperty("chunk_count").GetInt32(), chunks);
        Assert.Equal(chunks, app.Embeddings.Inputs.Count);
        Assert.Equal(1, await app.InScopeAsync(null, services => services.GetRequiredService<AppDbContext>().TrainingDocuments.Where(d => d.Id == document).Select(d => d.Attempts).SingleAsync()));
    }
}
