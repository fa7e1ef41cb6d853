namespace AgentMarket.Gateway;

/// <summary>The run gateway every front door goes through (SPEC §8).</summary>
static class GatewayModule
{
    public static void AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration("Gateway").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RunSlots>();
        builder.Services.AddScoped<RunGateway>();
        builder.Services.AddScoped<TrialAllowance>();
    }

    public static void MapGateway(this WebApplication app) => ((IEndpointRouteBuilder)app).MapGateway();
}
