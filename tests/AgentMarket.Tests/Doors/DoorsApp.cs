using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AgentMarket.Gateway;
using AgentMarket.Testing.FakeOpenAi;
using AgentMarket.Tests.Catalog;
using AgentMarket.Tests.Gateway;
using AgentMarket.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Doors;

/// <summary>
/// The app with the operator's default model pointed at a fake OpenAI-compatible server on loopback (as
/// <see cref="GatewayApp"/>), plus a second replica of it on a real Kestrel port on 127.0.0.1 over the same database, for
/// the Node clients, which need a socket. Setup and the .NET clients use the in-memory host; replicas share nothing in
/// memory that matters (README), so either one may serve any request.
/// </summary>
public sealed class DoorsApp : AgentMarketApp
{
    KestrelReplica? _replica;

    public FakeOpenAiServer Model { get; private set; } = default!;

    /// <summary>The Kestrel replica's address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public string BaseUrl => _replica!.BaseUrl;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => ModelSettings(Model);

    internal static IEnumerable<KeyValuePair<string, string?>> ModelSettings(FakeOpenAiServer model) =>
    [
        new("Llm:BaseUrl", model.BaseUrl.ToString()),
        new("Llm:ApiKey", "operator-test-key"),
        new("Llm:Model", "operator-default-model"),
    ];

    public override async ValueTask InitializeAsync()
    {
        Model = await FakeOpenAiServer.StartAsync();
        Model.Otherwise(FakeReply.Say("I am the default answer."));
        await base.InitializeAsync();
        _replica = new KestrelReplica(Database, Model);
        await _replica.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_replica is not null)
        {
            await _replica.DisposeAsync();
        }
        await base.DisposeAsync();
        await Model.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>A second process of the app on the first one's database, listening on a real port.</summary>
    sealed class KestrelReplica : AgentMarketApp
    {
        readonly FakeOpenAiServer _model;

        public KestrelReplica(TestDatabase database, FakeOpenAiServer model) : base(database, ownsDatabase: false)
        {
            _model = model;
            UseKestrel(0);
        }

        public string BaseUrl { get; private set; } = "";

        protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => ModelSettings(_model);

        public override ValueTask InitializeAsync()
        {
            StartServer();
            var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            BaseUrl = address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
            return ValueTask.CompletedTask;
        }
    }
}

public static class DoorIntents
{
    /// <summary>An agent publishing one of the shared Langflow examples (or a template of ours) at <paramref name="slug"/>.</summary>
    public static async Task<PublishedAgent> ExampleAgentAsync(this AgentMarketApp app, byte[] flow, string? slug = null, object? pricing = null)
    {
        var (seller, handle) = await app.SellerAsync();
        var name = $"Door agent {CatalogIntents.UniqueWord()}";
        var agentId = await seller.CreateAgentAsync(name);
        await Http.ReadJsonAsync(await seller.UploadFlowAsync(agentId, flow), HttpStatusCode.Created);
        slug ??= $"door-{Guid.NewGuid():N}"[..20];
        var body = CatalogIntents.PublishBody(slug, pricing is null ? null : new Dictionary<string, object?> { ["pricing"] = pricing });
        var listing = await Http.ReadJsonAsync(await seller.Client.PostAsJsonAsync($"/api/provider-agents/{agentId}/publish/", body), HttpStatusCode.Created);
        return new PublishedAgent(seller, agentId, listing.GetProperty("uuid").GetGuid(), slug, name, handle);
    }

    public static byte[] Template(string file) => File.ReadAllBytes(Path.Combine(Repo.Root, "src", "AgentMarket", "Providers", "Templates", file));

    public static async Task<long> CreditsAsync(this TestUser user) =>
        (await Http.ReadJsonAsync(await user.Client.GetAsync("/api/credits/balance/"))).GetProperty("balance").GetInt64();

    /// <summary>A client that sends <paramref name="credential"/> as a bearer token and no cookie, optionally naming the organization.</summary>
    public static HttpClient Bearer(this DoorsApp app, string credential, Guid? organization = null)
    {
        var client = app.BearerClient(credential);
        if (organization is { } id)
        {
            client.DefaultRequestHeaders.Add("X-Organization", id.ToString());
        }
        return client;
    }

    /// <summary>The runs recorded for a subscription, newest first, as the gateway stored them.</summary>
    public static Task<List<AgentRun>> RunsAsync(this AgentMarketApp app, Guid organization, Guid config) =>
        app.InScopeAsync(organization, services => services.GetRequiredService<AgentMarket.Platform.Data.AppDbContext>().AgentRuns.AsNoTracking()
            .Where(r => r.ConfigId == config).OrderByDescending(r => r.StartedUtc).ToListAsync());

    /// <summary>Waits (up to 15 s) until <paramref name="condition"/> holds: for work the app does in the background.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"timed out waiting until {what}");
            await Task.Delay(50);
        }
    }
}

/// <summary>Runs one of the Node scripts in <c>Doors/node</c>, which drive the real npm clients, and reads the JSON it prints.</summary>
public static class NodeClients
{
    static readonly string Folder = Path.Combine(Repo.Root, "tests", "AgentMarket.Tests", "Doors", "node");

    public static async Task<JsonElement> RunAsync(string script, object input)
    {
        var start = new ProcessStartInfo("node", script)
        {
            WorkingDirectory = Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(JsonSerializer.Serialize(input));
        node.StandardInput.Close();
        var output = node.StandardOutput.ReadToEndAsync();
        var error = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);
        Assert.True(node.ExitCode == 0, $"node {script} failed ({node.ExitCode}): {await error}\n{await output}");
        return JsonDocument.Parse(await output).RootElement.Clone();
    }
}
