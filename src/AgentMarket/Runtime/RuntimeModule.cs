namespace AgentMarket.Runtime;

/// <summary>The platform side of running flows: model endpoints, the outbound guard, compiled plans, session memory.</summary>
static class RuntimeModule
{
    public static void AddRuntime(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<LlmOptions>().BindConfiguration("Llm").ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<FlowsOptions>().BindConfiguration("Flows").ValidateDataAnnotations().ValidateOnStart();
        services.AddHttpClient(nameof(ModelClients)).ConfigureHttpClient(http => http.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<PlatformOutbound>();
        services.AddSingleton<ModelClients>();
        services.AddSingleton<AgentPlans>();
    }
}
