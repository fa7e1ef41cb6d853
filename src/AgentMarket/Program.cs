using AgentMarket.Admin;
using AgentMarket.Catalog;
using AgentMarket.Identity;
using AgentMarket.Platform;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Seed;
using AgentMarket.Platform.Ui;
using AgentMarket.Providers;
using AgentMarket.Providers.Pages;

if (args is ["db", "script", ..])
{
    return SchemaScript.Print(args[2..]);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddPlatform();          // data, problem details, JSON, auth, tenancy, OpenAPI, UI, health
builder.AddIdentityArea();      // users, organizations, projects, members, invitations, tokens, operators
builder.AddProviders();
builder.AddCatalog();
builder.AddAdmin();
builder.AddDemoData();          // categories always; demo providers and listings when Seed:Demo is true

var app = builder.Build();
app.UsePlatform();

app.MapPlatform();
app.MapIdentity();
app.MapProviders();
app.MapCatalog();
app.MapAdmin();
app.MapRazorComponents<App>().WithUploadLimits(app.Services);   // seller pages that post files

app.Run();
return 0;

public partial class Program;
