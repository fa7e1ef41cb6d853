using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Bench.Doors;

/// <summary>
/// What each front door adds to a run: the same trivial flow (chat input → chat output, 1 credit a run) through the run
/// API, the Langflow-compatible API, the OpenAI-compatible API and an MCP tool call, on the in-memory host (SQLite), one
/// request at a time. The doors take turns request by request, so all four see the same machine load; each door's
/// overhead is its percentile minus the run API's.
/// </summary>
static class DoorsBench
{
    static readonly string[] Tags = ["bench"];

    sealed record Door(string Name, Func<HttpClient, int, HttpRequestMessage> Request);

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
        await using var database = await BenchDatabase.CreateAsync("doors", server: null);
        await using var factory = BenchHost.Start(BenchHost.Settings(database));
        var (config, key, organization, _) = await SetUpAsync(factory);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        Door[] doors =
        [
            new("run API", (_, i) => Json($"/api/agents/{config}/run/", new { input = $"hello {i}", session_id = $"s{i % 50}" })),
            new("Langflow-compatible", (_, i) => Json($"/api/v1/run/{config}", new { input_value = $"hello {i}", session_id = $"s{i % 50}" })),
            new("OpenAI-compatible", (_, i) => Json("/v1/chat/completions", new { model = "bench-echo", user = $"s{i % 50}", messages = new[] { new { role = "user", content = $"hello {i}" } } })),
            new("MCP tool call", (_, i) =>
            {
                var call = Json("/mcp", new { jsonrpc = "2.0", id = i, method = "tools/call", @params = new { name = "bench-echo", arguments = new { input = $"hello {i}", session_id = $"s{i % 50}" } } });
                call.Headers.Accept.ParseAdd("application/json");
                call.Headers.Accept.ParseAdd("text/event-stream");
                return call;
            }),
        ];
        var latencies = doors.Select(d => new Measurements($"SQLite: {d.Name}, concurrency 1")).ToArray();
        for (var i = -300; i < rounds; i++)
        {
            // Rotating the order keeps any one door from always following another's garbage or cache misses.
            for (var k = 0; k < doors.Length; k++)
            {
                var index = (i + k + doors.Length * 1_000) % doors.Length;
                var elapsed = await TimeAsync(client, doors[index].Request(client, i));
                if (i >= 0)
                {
                    latencies[index].Add(elapsed);
                }
            }
        }
        foreach (var measurement in latencies)
        {
            Console.WriteLine(measurement.Summary("ms"));
        }
        for (var d = 1; d < doors.Length; d++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{doors[d].Name,-22} overhead over the run API: p50 {latencies[d].Percentile(50) - latencies[0].Percentile(50),7:+0.###;-0.###} ms  p99 {latencies[d].Percentile(99) - latencies[0].Percentile(99),7:+0.###;-0.###} ms"));
        }

        await using var scope = factory.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var check = await scope.ServiceProvider.GetRequiredService<LedgerCheck>().RunAsync(CancellationToken.None);
        var balance = await scope.ServiceProvider.GetRequiredService<CreditLedger>().BalanceAsync(organization, CancellationToken.None);
        var expected = (long)(rounds + 300) * doors.Length;
        Console.WriteLine($"ledger check ok={check.Ok}; charged {1_000_000_000 + 350 - balance.Balance:N0} credits for {expected:N0} runs");
        return check.Ok && 1_000_000_000 + 350 - balance.Balance == expected ? 0 : 1;
    }

    internal static HttpRequestMessage Json(string path, object body) => new(HttpMethod.Post, path) { Content = JsonContent.Create(body) };

    /// <summary>One request's time; an error answer (an MCP tool error is a 200 too) stops the suite.</summary>
    internal static async Task<double> TimeAsync(HttpClient client, HttpRequestMessage request)
    {
        var start = Stopwatch.GetTimestamp();
        using (request)
        using (var response = await client.SendAsync(request))
        {
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            // An MCP tool error is a 200 too; only a real answer counts.
            if (!response.IsSuccessStatusCode || body.Contains("\"isError\":true", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"{request.RequestUri}: {(int)response.StatusCode} {body}");
            }
            return elapsed;
        }
    }

    /// <summary>A seller publishes the trivial flow at 1 credit a run as <c>bench-echo</c>; a buyer with plenty of credits subscribes and gets a key.</summary>
    internal static async Task<(Guid Config, string Key, Guid Organization, HttpClient Buyer)> SetUpAsync(WebApplicationFactory<AgentMarket.Platform.Data.AppDbContext> factory)
    {
        var flow = await File.ReadAllTextAsync(LangflowExamples.PathOf("simple_chat_no_llm.json"));
        var seller = factory.CreateClient();
        await JsonAsync(seller.PostAsJsonAsync("/api/auth/signup", new { email = "seller@bench.example", password = "bench password", name = "Seller" }));
        await JsonAsync(seller.PostAsJsonAsync("/api/providers/", new { handle = "bench-seller", name = "Bench Seller" }));
        var agent = await JsonAsync(seller.PostAsJsonAsync("/api/provider-agents/", new { name = "Echo", description = "Echoes", category = "agents" }));
        var agentId = agent.GetProperty("uuid").GetGuid();
        await JsonAsync(seller.PostAsync($"/api/provider-agents/{agentId}/import_flow/", new StringContent(flow, Encoding.UTF8, "application/json")));
        await JsonAsync(seller.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", new
        {
            slug = "bench-echo", category = "agents", short_description = "Echoes", description = "Echoes.",
            tags = Tags, pricing = new { model = "fixed_credits", credits_per_run = 1 }, is_premium = false, visibility = "public",
        }));

        var buyer = factory.CreateClient();
        var signup = await JsonAsync(buyer.PostAsJsonAsync("/api/auth/signup", new { email = "buyer@bench.example", password = "bench password", name = "Buyer" }));
        var organization = signup.GetProperty("organization").GetProperty("uuid").GetGuid();
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
            await scope.ServiceProvider.GetRequiredService<CreditLedger>().PurchaseAsync("bench:credits", organization, 1_000_000_000, "bench", "bench", "bench", CancellationToken.None);
        }
        var order = await JsonAsync(buyer.PostAsJsonAsync("/api/marketplace-orders/", new { offering = "bench-echo" }));
        var config = order.GetProperty("customer_agent_config").GetGuid();
        var key = await JsonAsync(buyer.PostAsJsonAsync("/api/agent-api-keys/", new { config, name = "bench" }));
        return (config, key.GetProperty("key").GetString()!, organization, buyer);
    }

    internal static async Task<JsonElement> JsonAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        var body = await response.Content.ReadAsStringAsync();
        return response.IsSuccessStatusCode ? JsonDocument.Parse(body).RootElement.Clone() : throw new InvalidOperationException($"{(int)response.StatusCode} {body}");
    }
}
