using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Credits.Ledger;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AgentMarket.Tests.Gateway;

/// <summary>The app with the operator's default model pointed at a fake OpenAI-compatible server on loopback.</summary>
public class GatewayApp : AgentMarketApp
{
    public FakeOpenAiServer Model { get; private set; } = default!;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("Llm:BaseUrl", Model.BaseUrl.ToString()),
        new("Llm:ApiKey", "operator-test-key"),
        new("Llm:Model", "operator-default-model"),
    ];

    public override async ValueTask InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        Model.Otherwise(FakeReply.Say("I am the default answer."));
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Model.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A published agent a buyer subscribed to, with a key.</summary>
public sealed record Subscribed(PublishedAgent Agent, TestUser Buyer, Guid Config, string Key, HttpClient KeyClient);

public static class GatewayIntents
{
    /// <summary>
    /// A run record as the gateway or the usage endpoint writes it to claim its idempotency key, still running: what a
    /// request leaves behind when its process stops before the run is recorded.
    /// </summary>
    public static Task<AgentRun> ClaimRunAsync(this AgentMarketApp app, Guid config, string idempotencyKey, string door, DateTime started, DateTime? finished, long price) =>
        app.InScopeAsync(null, async services =>
        {
            var db = services.GetRequiredService<AppDbContext>();
            var subscription = await db.CustomerAgentConfigs.AsNoTracking().SingleAsync(c => c.Id == config);
            var listing = await db.Listings.AsNoTracking().SingleAsync(l => l.Id == subscription.ListingId);
            var run = new AgentRun
            {
                OrganizationId = subscription.OrganizationId,
                ConfigId = config,
                ListingId = listing.Id,
                ProviderId = listing.ProviderId,
                AgentVersionId = subscription.AgentVersionId,
                SessionId = idempotencyKey,
                IdempotencyKey = idempotencyKey,
                Door = door,
                Status = AgentRunStatus.Running,
                InputTokens = 120,
                OutputTokens = 80,
                CreditsReserved = price,
                StartedUtc = started,
                FinishedUtc = finished,
                Day = DateOnly.FromDateTime(started),
            };
            db.AgentRuns.Add(run);
            await db.SaveChangesAsync();
            return run;
        });

    /// <summary>
    /// Reserves <paramref name="run"/>'s price under <paramref name="key"/> as its request does, at
    /// <paramref name="at"/> for the gateway's reservation time; the reservation must succeed.
    /// </summary>
    public static Task<Guid> ReserveForAsync(this AgentMarketApp app, AgentRun run, string key, DateTime at) =>
        app.InScopeAsync(null, async services =>
        {
            var expires = at.AddMinutes(services.GetRequiredService<IOptions<GatewayOptions>>().Value.ReservationMinutes);
            var reserve = await services.GetRequiredService<CreditLedger>().ReserveAsync(key, run.OrganizationId, run.CreditsReserved, expires, "run", run.Id.ToString(), default);
            Assert.True(reserve.Succeeded);
            return reserve.OperationId;
        });

    /// <summary>Basic Prompting published with its prompt (the system message) declared as the buyer's system_prompt.</summary>
    public static async Task<PublishedAgent> PromptAgentAsync(this AgentMarketApp app, object? pricing = null)
    {
        var agent = await app.PublishedAgentAsync(overrides: pricing is null ? null : new Dictionary<string, object?> { ["pricing"] = pricing });
        var fields = new
        {
            fields = new[]
            {
                new { key = "system_prompt", node_id = "Prompt-xvuxC", field_name = "template", label = "System prompt", kind = "long_text", default_value = "Answer the user as if you were a GenAI expert, enthusiastic about helping them get started building something fresh." },
            },
        };
        await Http.AssertStatusAsync(await agent.Seller.Client.PutAsJsonAsync($"/api/provider-agents/{agent.AgentId}/configurable_fields/", fields), HttpStatusCode.OK);
        return agent;
    }

    /// <summary>An agent started from the knowledge-base assistant template: its buyers' documents are searched on every run.</summary>
    public static async Task<PublishedAgent> KnowledgeAgentAsync(this AgentMarketApp app)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Knowledge agent {CatalogIntents.UniqueWord()}";
        var agentId = (await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/from_template/", new { template = "knowledge_base_assistant", name }),
            HttpStatusCode.Created)).GetProperty("uuid").GetGuid();
        var slug = $"knowledge-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>An agent whose flow keeps session memory (the Memory Chatbot starter).</summary>
    public static async Task<PublishedAgent> MemoryAgentAsync(this AgentMarketApp app)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Memory agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await seller.ImportExampleAsync(agentId, "Memory Chatbot.json");
        var slug = $"memory-{Guid.NewGuid():N}"[..20];
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", CatalogIntents.PublishBody(slug)), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    public static async Task<Guid> SubscribeAsync(this TestUser buyer, PublishedAgent agent)
    {
        var order = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = agent.Slug }), HttpStatusCode.Created);
        Assert.Equal("done", order.GetProperty("state").GetString());
        return order.GetProperty("customer_agent_config").GetGuid();
    }

    public static async Task<(Guid Id, string Secret)> CreateKeyAsync(this TestUser buyer, Guid config, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["config"] = config, ["name"] = "server" };
        foreach (var property in extra?.GetType().GetProperties() ?? [])
        {
            body[JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name)] = property.GetValue(extra);
        }
        var created = await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/agent-api-keys/", body), HttpStatusCode.Created);
        return (created.GetProperty("uuid").GetGuid(), created.GetProperty("key").GetString()!);
    }

    public static async Task<Subscribed> SubscribedAsync(this AgentMarketApp app, PublishedAgent? agent = null, object? key = null)
    {
        agent ??= await app.PromptAgentAsync();
        var buyer = await app.SignUpAsync("Buyer");
        var config = await buyer.SubscribeAsync(agent);
        var (_, secret) = await buyer.CreateKeyAsync(config, key);
        return new Subscribed(agent, buyer, config, secret, app.BearerClient(secret));
    }

    public static Task<HttpResponseMessage> RunAsync(this HttpClient client, Guid config, string input, string? session = null, string? idempotencyKey = null)
    {
        var request = Http.Request(HttpMethod.Post, $"/api/agents/{config}/run/", json: new { input, session_id = session });
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return client.SendAsync(request);
    }
}
