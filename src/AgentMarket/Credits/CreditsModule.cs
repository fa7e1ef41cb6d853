using AgentMarket.Credits.Jobs;
using AgentMarket.Credits.Ledger;
using AgentMarket.Credits.Plans;
using AgentMarket.Identity;

namespace AgentMarket.Credits;

/// <summary>Credits (SPEC §3): the ledger, plans, grants, packages and spend controls.</summary>
static class CreditsModule
{
    public static void AddCredits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<CreditsOptions>().BindConfiguration("Credits").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(provider => provider.GetRequiredService<LedgerWriter>()); // stops it with the host
        services.AddScoped<CreditLedger>();
        services.AddScoped<LedgerCheck>();
        services.AddSingleton<GrantsCache>();
        services.AddScoped<CreditGrants>();
        services.AddScoped<SpendControls>();
        services.AddScoped<PlanChanges>();
        services.AddScoped<CreditSettingsChanges>();
        services.AddScoped<IOrganizationCreated, FreePlanForNewOrganizations>();
        services.AddHostedService<PlanCatalog>();
        services.AddSingleton<CreditJobs>();
        services.AddHostedService(provider => provider.GetRequiredService<CreditJobs>());
    }

    public static void MapCredits(this WebApplication app) => ((IEndpointRouteBuilder)app).MapCredits();
}
