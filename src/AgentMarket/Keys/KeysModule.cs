namespace AgentMarket.Keys;

/// <summary>Agent keys (SPEC §6): secret and publishable keys bound to one subscription, rotated with a grace period.</summary>
static class KeysModule
{
    public static void AddKeys(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<KeysOptions>().BindConfiguration("Keys").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyDirectory>();
        builder.Services.AddScoped<AgentKeys>();
        builder.Services.AddSingleton<KeyRateLimits>();
    }

    public static void MapKeys(this WebApplication app) => ((IEndpointRouteBuilder)app).MapKeys();
}
