using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Catalog.SocialProof;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Catalog;

/// <summary>A listing published through the API, with the ids tests need.</summary>
public sealed record PublishedAgent(TestUser Seller, Guid AgentId, Guid ListingId, string Slug, string Name, string ProviderHandle);

/// <summary>Intent methods for the seller and catalog tests: become a provider, create and import, publish, record runs.</summary>
public static class CatalogIntents
{
    public static string ExampleFlowPath(string fileName) => Path.Combine(Repo.Shared, "examples", "langflow", fileName);

    public static byte[] ExampleFlow(string fileName) => File.ReadAllBytes(ExampleFlowPath(fileName));

    /// <summary>A new user whose organization is an approved provider (auto-approval is the default).</summary>
    public static async Task<(TestUser Seller, string Handle)> SellerAsync(this AgentMarketApp app, string? name = null)
    {
        var seller = await app.SignUpAsync(name);
        // Letter-led, so PostgreSQL's parser reads it as one word (a digit-led part such as "1e5" parses as a number).
        var handle = $"s{Guid.NewGuid():N}"[..18];
        await Http.AssertStatusAsync(await seller.Client.PostAsJsonAsync("/api/providers/", new { handle, name = name ?? "Seller " + handle }), HttpStatusCode.Created);
        return (seller, handle);
    }

    /// <summary>A new user who joins <paramref name="owner"/>'s organization with <paramref name="role"/> and acts for it.</summary>
    public static async Task<TestUser> JoinAsync(this AgentMarketApp app, TestUser owner, string role)
    {
        var user = await app.SignUpAsync();
        var created = await Http.ReadJsonAsync(await owner.Client.PostAsJsonAsync("/api/invitations/", new { email = user.Email, role }), HttpStatusCode.Created);
        var token = System.Web.HttpUtility.ParseQueryString(new Uri(created.GetProperty("accept_url").GetString()!).Query)["token"]!;
        await Http.AssertStatusAsync(await user.Client.PostAsJsonAsync("/api/invitations/accept", new { token }), HttpStatusCode.OK);
        user.Client.DefaultRequestHeaders.Add("X-Organization", owner.OrganizationId.ToString());
        return user;
    }

    public static async Task<Guid> CreateAgentAsync(this TestUser seller, string name = "Test agent", string category = "assistants", string description = "An agent under test.")
    {
        var created = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync("/api/provider-agents/", new { name, description, category }), HttpStatusCode.Created);
        return created.GetProperty("uuid").GetGuid();
    }

    /// <summary>Uploads a flow as a multipart file, as the seller's browser or curl -F would.</summary>
    public static Task<HttpResponseMessage> UploadFlowAsync(this TestUser seller, Guid agentId, byte[] flow, string fileName = "flow.json", string? version = null, string? changelog = null, string action = "import_flow")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(flow);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        form.Add(file, "file", fileName);
        if (version is not null)
        {
            form.Add(new StringContent(version), "version");
        }
        if (changelog is not null)
        {
            form.Add(new StringContent(changelog), "changelog");
        }
        return seller.Client.PostAsync($"/api/provider-agents/{agentId}/{action}/", form);
    }

    public static async Task<JsonElement> ImportExampleAsync(this TestUser seller, Guid agentId, string example = "Basic Prompting.json", string? version = null, string? changelog = null) =>
        await Http.ReadJsonAsync(await seller.UploadFlowAsync(agentId, ExampleFlow(example), example, version, changelog), HttpStatusCode.Created);

    /// <summary>The usual publish body, with overrides merged over it.</summary>
    public static Dictionary<string, object?> PublishBody(string slug, Dictionary<string, object?>? overrides = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["slug"] = slug,
            ["category"] = "assistants",
            ["short_description"] = "Answers questions politely.",
            ["description"] = "## What it does\nAnswers **politely**.",
            ["tags"] = new[] { "support", "chat" },
            ["pricing"] = new { model = "fixed_credits", credits_per_run = 5 },
            ["is_premium"] = false,
            ["visibility"] = "public",
        };
        foreach (var (key, value) in overrides ?? [])
        {
            body[key] = value;
        }
        return body;
    }

    /// <summary>A seller with an agent that has the Basic Prompting flow imported and published under <paramref name="slug"/>.</summary>
    public static async Task<PublishedAgent> PublishedAgentAsync(this AgentMarketApp app, string? slug = null, string? name = null,
        Dictionary<string, object?>? overrides = null, string category = "assistants")
    {
        // A unique word in the name lets a test find its own card by searching for it.
        name ??= $"Test agent {UniqueWord()}";
        var (seller, handle) = await app.SellerAsync();
        var agentId = await seller.CreateAgentAsync(name, category);
        await seller.ImportExampleAsync(agentId);
        slug ??= $"agent-{Guid.NewGuid():N}"[..20];
        var body = PublishBody(slug, overrides);
        body["category"] = overrides?.GetValueOrDefault("category") ?? category;
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", body), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    /// <summary>A lower-case word no other test uses.</summary>
    public static string UniqueWord() => "w" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>What the gateway will do when a run finishes; until it exists, tests record runs directly.</summary>
    public static async Task RecordRunAsync(this AgentMarketApp app, Guid listingId, Guid organizationId, RunOutcome outcome = RunOutcome.Completed, DateTime? finishedUtc = null)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var finished = finishedUtc ?? DateTime.UtcNow;
        await scope.ServiceProvider.GetRequiredService<RunFacts>().RecordAsync(
            new FinishedRun(listingId, organizationId, null, outcome, finished.AddSeconds(-2), finished), CancellationToken.None);
    }

    /// <summary>
    /// A customer's completed run, as review eligibility needs it: the buyer subscribes to the listing and a run of it is
    /// recorded (a completed run alone may be a free playground try, which does not entitle a review).
    /// </summary>
    public static async Task RecordCustomerRunAsync(this AgentMarketApp app, TestUser buyer, Guid listingId)
    {
        await Http.ReadJsonAsync(await buyer.Client.PostAsJsonAsync("/api/marketplace-orders/", new { offering = listingId }), HttpStatusCode.Created);
        await app.RecordRunAsync(listingId, buyer.OrganizationId);
    }

    /// <summary>One tick of the social-proof repair job.</summary>
    public static async Task RepairSocialProofAsync(this AgentMarketApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        await scope.ServiceProvider.GetRequiredService<RunFacts>().RepairAsync(CancellationToken.None);
    }

    /// <summary>The agent's card as the catalog API returns it, found by searching for its name.</summary>
    public static async Task<JsonElement> CardAsync(this AgentMarketApp app, PublishedAgent agent)
    {
        var page = await Http.ReadJsonAsync(await app.CreateClient().GetAsync($"/api/marketplace/agents/?search={Uri.EscapeDataString(agent.Name)}&limit=200"));
        return page.GetProperty("items").EnumerateArray().Single(c => c.GetProperty("slug").GetString() == agent.Slug);
    }

    public static async Task<JsonElement> DetailsAsync(this AgentMarketApp app, string idOrSlug, HttpClient? client = null) =>
        await Http.ReadJsonAsync(await (client ?? app.CreateClient()).GetAsync($"/api/marketplace/agents/{idOrSlug}/"));
}
