using AgentMarket.Admin;
using AgentMarket.Admin.Metrics;
using AgentMarket.Audit;
using AgentMarket.Backstage;
using AgentMarket.Catalog;
using AgentMarket.Credits;
using AgentMarket.Doors;
using AgentMarket.Gateway;
using AgentMarket.Identity;
using AgentMarket.Keys;
using AgentMarket.Knowledge;
using AgentMarket.Payments;
using AgentMarket.Payouts;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Seed;
using AgentMarket.Platform.Ui;
using AgentMarket.Providers;
using AgentMarket.Providers.Economics;
using AgentMarket.Runtime;
using AgentMarket.Runtime.Cli;
using AgentMarket.Subscriptions;
using AgentMarket.Usage;
using AgentMarket.Webhooks;
using AgentMarket.Widget;
using Microsoft.Extensions.Options;

// Command-line tools share the host's configuration but start neither the web server nor the database.
if (args is ["flow", ..])
{
    return await FlowCli.RunAsync(args[1..]);
}
if (args is ["db", "script", ..])
{
    return SchemaScript.Print(args[2..]);
}

// `dotnet run` keeps the caller's working directory (see the .csproj); when that is not the app's own folder, the
// content root (appsettings.json, wwwroot through the static web assets manifest) is where the build put the app.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = File.Exists(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json")) ? null : AppContext.BaseDirectory,
});

builder.AddPlatform();          // data, problem details, JSON, auth, tenancy, OpenAPI, UI, health
builder.AddIdentityArea();      // users, organizations, projects, members, invitations, tokens, operators
builder.AddProviders();
builder.AddCatalog();
builder.AddCredits();           // the ledger, plans, grants, packages, spend controls
builder.AddPayments();          // sandbox or Stripe checkout, fulfilment, receipts
builder.AddRuntime();           // model endpoints, outbound guard, compiled plans, session memory
builder.AddSubscriptions();     // "Add to My Agents", customer agent configs
builder.AddKeys();              // agent API keys
builder.AddGateway();           // the one run path of every front door
builder.AddKnowledge();         // knowledge bases, training documents, background processing, search, the runtime's retriever
builder.AddUsage();             // buyers' usage per day, agent and key
builder.AddDoors();             // Langflow-compatible, OpenAI-compatible and MCP front doors
builder.AddWidget();            // the embeddable chat widget: publishable keys, sessions, its script files
builder.AddWebhooks();          // outbound webhooks: endpoints, signed deliveries from the outbox, the delivery log
builder.AddEconomics();         // providers' earnings rollups, dashboard and pricing hints
builder.AddPayouts();           // monthly payouts with statements, manual or through Stripe Connect
builder.AddAdmin();
builder.AddBackstage();         // the public catalog as Backstage entities
builder.AddAudit();             // the append-only audit log
builder.AddDemoData();          // categories always; demo providers and listings when Seed:Demo is true

var app = builder.Build();
// Settings checked at start (ValidateOnStart) are checked here already: a misconfigured process stops with the
// setting's message before anything maps, starts or is disposed half-way (a test host reading a disposed provider).
app.Services.GetRequiredService<IStartupValidator>().Validate();
app.UseRequestMetrics();        // /metrics: requests counted from the first middleware on
app.UsePlatform();

app.MapPlatform();
app.MapIdentity();
app.MapProviders();
app.MapCredits();
app.MapPayments();
app.MapCatalog();
app.MapSubscriptions();
app.MapKeys();
app.MapGateway();
app.MapKnowledge();
app.MapUsage();
app.MapDoors();
app.MapWidget();
app.MapWebhooks();
app.MapEconomics();
app.MapPayouts();
app.MapAdmin();
app.MapBackstage();
app.MapAudit();
app.MapRazorComponents<App>();

app.Run();
return 0;

public partial class Program;
