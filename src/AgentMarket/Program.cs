using AgentMarket.Admin;
using AgentMarket.Catalog;
using AgentMarket.Credits;
using AgentMarket.Identity;
using AgentMarket.Knowledge;
using AgentMarket.Payments;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Seed;
using AgentMarket.Platform.Ui;
using AgentMarket.Providers;
using AgentMarket.Runtime.Cli;

// Command-line tools share the host's configuration but start neither the web server nor the database.
if (args is ["flow", ..])
{
    return await FlowCli.RunAsync(args[1..]);
}
if (args is ["db", "script", ..])
{
    return SchemaScript.Print(args[2..]);
}

// The content root is where the build put appsettings.json, whatever the working directory (see the .csproj).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddPlatform();          // data, problem details, JSON, auth, tenancy, OpenAPI, UI, health
builder.AddIdentityArea();      // users, organizations, projects, members, invitations, tokens, operators
builder.AddProviders();
builder.AddCatalog();
builder.AddCredits();           // the ledger, plans, grants, packages, spend controls
builder.AddPayments();          // sandbox or Stripe checkout, fulfilment, receipts
builder.AddKnowledge();         // knowledge bases, training documents, background processing, search, the runtime's retriever
builder.AddAdmin();
builder.AddDemoData();          // categories always; demo providers and listings when Seed:Demo is true

var app = builder.Build();
app.UsePlatform();

app.MapPlatform();
app.MapIdentity();
app.MapProviders();
app.MapCredits();
app.MapPayments();
app.MapKnowledge();
app.MapAdmin();
app.MapRazorComponents<App>();

app.Run();
return 0;

public partial class Program;
