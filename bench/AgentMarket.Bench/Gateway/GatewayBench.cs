using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Flows;
using AgentMarket.Flows.Execution;
using AgentMarket.Flows.Services;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AgentMarket.Bench.Gateway;

/// <summary>
/// The gateway's overhead: the same trivial flow (chat input → chat output, 1 credit a run) run by calling the engine
/// directly and through the whole run API (key → reserve → run → settle → record) on the in-memory host, one after the
/// other in one process, at concurrency 1 and 64, on SQLite and (with <c>AGENTMARKET_BENCH_POSTGRES</c>) PostgreSQL.
/// With <c>webhooks</c>, the buyer also has an endpoint subscribed to <c>run.completed</c> on a loopback receiver, so
/// every run writes an outbox event and the dispatcher sends it while the runs go on. With <c>buyers=N</c>, N buyer
/// organizations share the runs in turn (each its own wallet), instead of one buyer whose wallet every run locks.
/// </summary>
static class GatewayBench
{
    static readonly string[] Tags = ["bench"];
    static readonly string[] RunCompleted = ["run.completed"];

    static readonly string Flow = File.ReadAllText(LangflowExamples.PathOf("simple_chat_no_llm.json"));

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = args.Length > 0 && int.TryParse(args[0], CultureInfo.InvariantCulture, out var count) ? count : 3_000;
        var webhooks = args.Contains("webhooks");
        var buyers = args.FirstOrDefault(a => a.StartsWith("buyers=", StringComparison.Ordinal)) is { } option
            ? int.Parse(option["buyers=".Length..], CultureInfo.InvariantCulture)
            : 1;
        // "sqlite" or "postgres" measures that database only (the engine's baseline is always measured).
        var only = args.FirstOrDefault(a => a is "sqlite" or "postgres");
        await EngineAsync(runs);
        if (only is null or "sqlite")
        {
            await HostAsync("SQLite", null, runs, webhooks, buyers);
        }
        if (only is "sqlite")
        {
            return 0;
        }
        if (Environment.GetEnvironmentVariable("AGENTMARKET_BENCH_POSTGRES") is { Length: > 0 } postgres)
        {
            await HostAsync("PostgreSQL", postgres, runs, webhooks, buyers);
        }
        else
        {
            Console.WriteLine("(set AGENTMARKET_BENCH_POSTGRES to a server connection string to measure PostgreSQL too)");
        }
        return 0;
    }

    static async Task EngineAsync(int runs)
    {
        var plan = FlowEngine.Default.Compile(Flow).Plan!;
        var services = new FlowServices { Models = new SingleModelResolver(null), Messages = new InMemoryMessageStore() };
        foreach (var concurrency in new[] { 1, 64 })
        {
            var latencies = new Measurements($"engine directly, concurrency {concurrency}");
            var clock = Stopwatch.StartNew();
            await ParallelRunsAsync(runs, concurrency, async i =>
            {
                var start = Stopwatch.GetTimestamp();
                var result = await FlowEngine.Default.RunAsync(plan, new RunRequest { InputValue = $"hello {i}", SessionId = $"s{i % 50}" }, services);
                if (result.Status != RunStatus.Succeeded)
                {
                    throw new InvalidOperationException("engine run failed");
                }
                return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }, latencies, warmUp: 500);
            Console.WriteLine(latencies.Summary("ms") + $"  {runs / clock.Elapsed.TotalSeconds,8:N0} runs/s");
        }
    }

    static async Task HostAsync(string name, string? postgres, int runs, bool webhooks, int buyerCount)
    {
        await using var receiver = webhooks ? await CountingReceiver.StartAsync() : null;
        name += webhooks ? " + run.completed webhooks" : "";
        name += buyerCount > 1 ? $", {buyerCount} buyers" : "";
        await using var database = await BenchDatabase.CreateAsync("gateway", postgres, c => c.MaxPoolSize = 200);
        var settings = BenchHost.Settings(database);
        settings["Flows:OutboundAllowList:0"] = "127.0.0.1/32";
        await using var factory = BenchHost.Start(settings);
        var buyers = await SetUpAsync(factory, receiver?.Url, buyerCount);
        var clients = buyers.ConvertAll(buyer =>
        {
            var client = factory.CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", buyer.Key);
            return client;
        });
        foreach (var concurrency in new[] { 1, 64 })
        {
            var latencies = new Measurements($"{name}: run API, concurrency {concurrency}");
            var overhead = new Measurements($"{name}: gateway's own overhead (header), c={concurrency}");
            var clock = Stopwatch.StartNew();
            await ParallelRunsAsync(runs, concurrency, async i =>
            {
                // Warm-up runs have negative numbers.
                var buyer = (i % buyers.Count + buyers.Count) % buyers.Count;
                var start = Stopwatch.GetTimestamp();
                using var response = await clients[buyer].PostAsJsonAsync($"/api/agents/{buyers[buyer].Config}/run/", new { input = $"hello {i}", session_id = $"s{i % 50}" });
                var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"run failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
                lock (overhead)
                {
                    overhead.Add(double.Parse(response.Headers.GetValues("X-Gateway-Overhead-Ms").Single(), CultureInfo.InvariantCulture));
                }
                return elapsed;
            }, latencies, warmUp: 300);
            Console.WriteLine(latencies.Summary("ms") + $"  {runs / clock.Elapsed.TotalSeconds,8:N0} runs/s");
            Console.WriteLine(overhead.Summary("ms"));
        }
        if (receiver is not null)
        {
            // Every successful run (warm-ups included) is one run.completed event; wait for the dispatcher to catch up.
            var expected = 2 * (runs + 300);
            var drain = Stopwatch.StartNew();
            while (receiver.Count < expected && drain.Elapsed < TimeSpan.FromSeconds(120))
            {
                await Task.Delay(100);
            }
            Console.WriteLine($"{name}: {receiver.Count:N0} of {expected:N0} run.completed webhooks received, the last {drain.Elapsed.TotalSeconds:N1} s after the last run");
        }
        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var check = await scope.ServiceProvider.GetRequiredService<LedgerCheck>().RunAsync(CancellationToken.None);
        var ledger = scope.ServiceProvider.GetRequiredService<CreditLedger>();
        long spent = 0;
        foreach (var buyer in buyers)
        {
            spent += 1_000_000_000 + 350 - (await ledger.BalanceAsync(buyer.Organization, CancellationToken.None)).Balance;
        }
        foreach (var client in clients)
        {
            client.Dispose();
        }
        Console.WriteLine($"{name}: ledger check ok={check.Ok}, buyers spent {spent:N0} credits");
    }

    /// <summary>A seller publishes the trivial flow at 1 credit a run; each buyer, with plenty of credits, subscribes and gets a key.</summary>
    static async Task<List<(Guid Config, string Key, Guid Organization)>> SetUpAsync(
        WebApplicationFactory<AgentMarket.Platform.Data.AppDbContext> factory, string? webhookUrl, int buyerCount)
    {
        var seller = factory.CreateClient();
        await Ok(seller.PostAsJsonAsync("/api/auth/signup", new { email = "seller@bench.example", password = "bench password", name = "Seller" }));
        await Ok(seller.PostAsJsonAsync("/api/providers/", new { handle = "bench-seller", name = "Bench Seller" }));
        var agent = await Json(seller.PostAsJsonAsync("/api/provider-agents/", new { name = "Echo", description = "Echoes", category = "agents" }));
        var agentId = agent.GetProperty("uuid").GetGuid();
        await Ok(seller.PostAsync($"/api/provider-agents/{agentId}/import_flow/", new StringContent(Flow, System.Text.Encoding.UTF8, "application/json")));
        await Ok(seller.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", new
        {
            slug = "bench-echo", category = "agents", short_description = "Echoes", description = "Echoes.",
            tags = Tags, pricing = new { model = "fixed_credits", credits_per_run = 1 }, is_premium = false, visibility = "public",
        }));

        var buyers = new List<(Guid Config, string Key, Guid Organization)>();
        for (var b = 0; b < buyerCount; b++)
        {
            buyers.Add(await BuyerAsync(factory, webhookUrl, b));
        }
        return buyers;
    }

    static async Task<(Guid Config, string Key, Guid Organization)> BuyerAsync(
        WebApplicationFactory<AgentMarket.Platform.Data.AppDbContext> factory, string? webhookUrl, int number)
    {
        using var buyer = factory.CreateClient();
        var signup = await Json(buyer.PostAsJsonAsync("/api/auth/signup", new { email = $"buyer{number}@bench.example", password = "bench password", name = "Buyer" }));
        var organization = signup.GetProperty("organization").GetProperty("uuid").GetGuid();
        // Enterprise allows 200 concurrent sessions, so the plan does not limit the measurement.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            var db = scope.ServiceProvider.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>();
            db.OrganizationPlans.Single(p => p.OrganizationId == organization).PlanCode = "enterprise";
            await db.SaveChangesAsync();
            await scope.ServiceProvider.GetRequiredService<CreditLedger>().PurchaseAsync($"bench:credits:{organization}", organization, 1_000_000_000, "bench", "bench", "bench", CancellationToken.None);
        }
        if (webhookUrl is not null)
        {
            await Ok(buyer.PostAsJsonAsync("/api/webhook-endpoints/", new { url = webhookUrl, events = RunCompleted }));
        }
        var order = await Json(buyer.PostAsJsonAsync("/api/marketplace-orders/", new { offering = "bench-echo" }));
        var config = order.GetProperty("customer_agent_config").GetGuid();
        var key = await Json(buyer.PostAsJsonAsync("/api/agent-api-keys/", new { config, name = "bench" }));
        return (config, key.GetProperty("key").GetString()!, organization);
    }

    static async Task ParallelRunsAsync(int runs, int concurrency, Func<int, Task<double>> run, Measurements latencies, int warmUp)
    {
        for (var i = 0; i < warmUp; i++)
        {
            await run(-i - 1);
        }
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < runs)
            {
                var elapsed = await run(i);
                lock (latencies)
                {
                    latencies.Add(elapsed);
                }
            }
        })));
    }

    static async Task Ok(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{response.RequestMessage?.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    static async Task<JsonElement> Json(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"{(int)response.StatusCode} {body}");
    }
}

/// <summary>A webhook receiver on 127.0.0.1 that answers 204 and counts.</summary>
sealed class CountingReceiver : IAsyncDisposable
{
    readonly WebApplication _app;
    int _count;

    CountingReceiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public int Count => Volatile.Read(ref _count);

    public static async Task<CountingReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new CountingReceiver(app);
        app.MapPost("/hook", () =>
        {
            Interlocked.Increment(ref receiver._count);
            return Microsoft.AspNetCore.Http.Results.NoContent();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address.TrimEnd('/') + "/hook";
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
