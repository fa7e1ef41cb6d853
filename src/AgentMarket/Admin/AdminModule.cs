namespace AgentMarket.Admin;

/// <summary>The operator console (operators only; everyone else gets 404).</summary>
static class AdminModule
{
    public static void AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ProviderDecisions>();
        builder.Services.AddScoped<Suspensions>();
        builder.Services.AddScoped<CreditAdjustments>();
    }

    public static void MapAdmin(this WebApplication app)
    {
        app.MapProviderApprovals();
        app.MapCreditAdmin();
        app.MapOrganizationAdmin();
    }
}
