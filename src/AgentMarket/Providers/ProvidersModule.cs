using AgentMarket.Providers.Agents;
using AgentMarket.Providers.Configuration;
using AgentMarket.Providers.Publishing;

namespace AgentMarket.Providers;

/// <summary>The seller side: provider applications and profiles, provider agents, versions, configurable fields, publishing, stats.</summary>
static class ProvidersModule
{
    public static void AddProviders(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MarketplaceOptions>().BindConfiguration("Marketplace").ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<ProviderApplications>();
        services.AddScoped<ProviderProfileChanges>();
        services.AddScoped<ProviderAgents>();
        services.AddScoped<AgentVersions>();
        services.AddScoped<ConfigurableFields>();
        services.AddScoped<ListingPublisher>();
        services.AddScoped<AgentStats>();
        services.AddScoped<TemplateStarter>();
    }

    public static void MapProviders(this WebApplication app)
    {
        if (app.Environment.IsProduction() && string.IsNullOrWhiteSpace(app.Configuration["Marketplace:PublicUrl"]))
        {
            // Said once at start rather than by the first user who asks for a password reset and gets no email.
            app.Logger.LogWarning("Marketplace:PublicUrl is not set: password reset and invitation emails are not sent, and links in other emails use the address each request came to.");
        }
        ((IEndpointRouteBuilder)app).MapProviders();
        app.MapProviderAgents();
        app.MapPublishing();
    }
}
