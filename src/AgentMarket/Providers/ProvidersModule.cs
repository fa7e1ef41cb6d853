namespace AgentMarket.Providers;

/// <summary>The seller side: provider applications and profiles (later: provider agents, versions, analytics, payouts).</summary>
static class ProvidersModule
{
    public static void AddProviders(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<MarketplaceOptions>().BindConfiguration("Marketplace");
        builder.Services.AddScoped<ProviderApplications>();
    }

    public static void MapProviders(this WebApplication app) => ((IEndpointRouteBuilder)app).MapProviders();
}
