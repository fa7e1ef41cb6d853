using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AgentMarket.Bench.Doors;
using AgentMarket.Credits.Ledger;
using AgentMarket.Keys;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Widget;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Bench.Widget;

/// <summary>
/// What the widget adds to a run: the same trivial flow (chat input → chat output, 1 credit a run) through the run API
/// with a secret key, and through the widget (a message with a session token, checked against its origin and key), plus
/// what opening a widget session costs (once per page view). In-memory host (SQLite), one request at a time, the three
/// taking turns request by request so they see the same machine load, as in <see cref="DoorsBench"/>.
/// </summary>
static class WidgetBench
{
    const string Origin = "https://shop.bench.example";
    const int Visitors = 50;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
        await using var database = await BenchDatabase.CreateAsync("widget", server: null);
        var settings = BenchHost.Settings(database);
        settings["Widget:VisitorMessagesPerMinute"] = "1000000";
        settings["Widget:SessionsPerMinutePerAddress"] = "1000000";
        await using var factory = BenchHost.Start(settings);
        var (config, secret, organization, buyer) = await DoorsBench.SetUpAsync(factory);
        var publishable = (await DoorsBench.JsonAsync(buyer.PostAsJsonAsync("/api/agent-api-keys/",
            new { config, name = "widget", kind = "publishable", allowed_origins = new[] { Origin } }))).GetProperty("key").GetString()!;
        using var api = factory.CreateClient();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        using var widget = factory.CreateClient();
        widget.DefaultRequestHeaders.Add("Origin", Origin);
        var tokens = new string[Visitors];
        for (var v = 0; v < Visitors; v++)
        {
            tokens[v] = (await DoorsBench.JsonAsync(widget.PostAsJsonAsync("/api/widget/sessions", new { key = publishable }))).GetProperty("token").GetString()!;
        }

        var runApi = new Measurements("SQLite: run API (secret key)");
        var message = new Measurements("SQLite: widget message (session token)");
        var session = new Measurements("SQLite: widget session open");
        var steps = new (Measurements Into, Func<int, HttpClient> Client, Func<int, HttpRequestMessage> Request)[]
        {
            (runApi, _ => api, i => DoorsBench.Json($"/api/agents/{config}/run/", new { input = $"hello {i}", session_id = $"s{i % Visitors}" })),
            (message, _ => widget, i =>
            {
                var request = DoorsBench.Json("/api/widget/messages", new { input = $"hello {i}" });
                request.Headers.Add("X-Widget-Session", tokens[(i % Visitors + Visitors) % Visitors]);
                return request;
            }),
            (session, _ => widget, _ => DoorsBench.Json("/api/widget/sessions", new { key = publishable })),
        };
        for (var i = -300; i < rounds; i++)
        {
            for (var k = 0; k < steps.Length; k++)
            {
                var step = steps[(i + k + steps.Length * 1_000) % steps.Length];
                var elapsed = await DoorsBench.TimeAsync(step.Client(i), step.Request(i));
                if (i >= 0)
                {
                    step.Into.Add(elapsed);
                }
            }
        }
        foreach (var measurement in new[] { runApi, message, session })
        {
            Console.WriteLine(measurement.Summary("ms"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"widget message overhead over the run API: p50 {message.Percentile(50) - runApi.Percentile(50),7:+0.###;-0.###} ms  p99 {message.Percentile(99) - runApi.Percentile(99),7:+0.###;-0.###} ms"));

        // The same difference measured without HTTP and the engine's noise: the checks a widget message adds, in process.
        var checks = await WidgetChecksAsync(factory.Services, tokens[0], rounds * 5);
        Console.WriteLine(checks.Summary("µs"));

        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var check = await scope.ServiceProvider.GetRequiredService<LedgerCheck>().RunAsync(CancellationToken.None);
        var balance = await scope.ServiceProvider.GetRequiredService<CreditLedger>().BalanceAsync(organization, CancellationToken.None);
        var expected = (long)(rounds + 300) * 2;
        Console.WriteLine($"ledger check ok={check.Ok}; charged {1_000_000_000 + 350 - balance.Balance:N0} credits for {expected:N0} runs");
        return check.Ok && 1_000_000_000 + 350 - balance.Balance == expected ? 0 : 1;
    }

    /// <summary>Token decryption, origin normalization, the cached key lookup and the visitor's rate limiter, per message.</summary>
    static async Task<Measurements> WidgetChecksAsync(IServiceProvider services, string token, int iterations)
    {
        var tokens = services.GetRequiredService<WidgetTokens>();
        var keys = services.GetRequiredService<ApiKeyDirectory>();
        var limits = services.GetRequiredService<WidgetLimits>();
        var measurements = new Measurements("in process: a widget message's own checks");
        for (var i = -1_000; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var session = tokens.Read(token) ?? throw new InvalidOperationException("token");
            var origin = AgentKeys.NormalizeOrigin(Origin);
            var expired = tokens.HasExpired(session);
            var key = await keys.FindByIdAsync(session.KeyId, CancellationToken.None) ?? throw new InvalidOperationException("key");
            var allowed = key.AllowedOrigins.Contains(origin) && !expired;
            var limited = limits.RefuseMessage(key.KeyId, session.VisitorId);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (!allowed || limited is not null)
            {
                throw new InvalidOperationException("refused");
            }
            if (i >= 0)
            {
                measurements.Add(elapsed);
            }
        }
        return measurements;
    }
}
