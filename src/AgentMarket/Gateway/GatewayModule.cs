using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Gateway;

/// <summary>The run gateway every front door goes through (SPEC §8).</summary>
static class GatewayModule
{
    public static void AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration("Gateway").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<RunSlots>();
        builder.Services.AddSingleton<SpendCapHolds>();
        builder.Services.AddSingleton<GatewayCache>();
        builder.Services.AddSingleton<IInterceptor, GatewayCacheInvalidation>();
        builder.Services.AddSingleton<RunProjector>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<RunProjector>());
        builder.Services.AddSingleton<RunJournal>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<RunJournal>()); // drains it at shutdown
        builder.Services.AddScoped<RunGateway>();
        builder.Services.AddScoped<TrialAllowance>();
        builder.Services.AddScoped<ExternalUsage>();
        builder.Services.AddScoped<InterruptedRuns>();
        builder.Services.AddSingleton<InterruptedRunSweeper>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<InterruptedRunSweeper>());
        builder.Services.AddSingleton<TrialPruner>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<TrialPruner>());
    }

    public static void MapGateway(this WebApplication app)
    {
        ((IEndpointRouteBuilder)app).MapGateway();
        app.MapExternalUsage();
    }
}
