using AgentMarket.Credits;

namespace AgentMarket.Providers.Economics;

/// <summary>Provider economics: the daily rollups the run journal maintains, the dashboard API and page, pricing hints.</summary>
static class EconomicsModule
{
    public static void AddEconomics(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<EconomicsOptions>().BindConfiguration("Economics").ValidateDataAnnotations().ValidateOnStart();
        // The operator's word on runs paid with granted credits reaches the ledger's split through the credits options.
        services.AddOptions<CreditsOptions>().PostConfigure<IConfiguration>((credits, configuration) =>
        {
            var economics = new EconomicsOptions();
            configuration.GetSection("Economics").Bind(economics);
            if (configuration["Economics:GrantedCreditRuns"] is { Length: > 0 } && economics.TryGrantedPayoutPercent() is { } percent)
            {
                credits.GrantedCreditsPayoutPercent = percent;
            }
        });
        services.AddScoped<EconomicsRollups>();
        services.AddScoped<ProviderEconomics>();
    }

    public static void MapEconomics(this WebApplication app) => EconomicsEndpoints.MapEconomics(app);
}
