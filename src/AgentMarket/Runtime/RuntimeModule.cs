namespace AgentMarket.Runtime;

/// <summary>The platform side of running flows: model endpoints, the outbound guard, compiled plans, session memory.</summary>
static class RuntimeModule
{
    public static void AddRuntime(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddModelClients();
        services.AddSingleton<AgentPlans>();
    }

    /// <summary>
    /// The model clients and what they need (their options, the outbound guard): the host's and the CLI's, so a CLI run
    /// takes usage as the platform does (<see cref="ModelClients"/>). Options bind from the <see cref="IConfiguration"/> registered.
    /// </summary>
    public static IServiceCollection AddModelClients(this IServiceCollection services)
    {
        services.AddOptions<LlmOptions>().BindConfiguration("Llm").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FlowsOptions>().BindConfiguration("Flows").ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(nameof(ModelClients)).ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<PlatformOutbound>();
        services.AddSingleton<ModelClients>();
        return services;
    }
}
