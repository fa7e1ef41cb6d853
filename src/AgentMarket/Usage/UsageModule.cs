namespace AgentMarket.Usage;

/// <summary>Buyers' usage (SPEC §6): runs, credits, tokens, latency and errors per day, agent and key, as JSON, CSV and charts.</summary>
static class UsageModule
{
    public static void AddUsage(this WebApplicationBuilder builder) => builder.Services.AddScoped<UsageQueries>();

    public static void MapUsage(this WebApplication app) => ((IEndpointRouteBuilder)app).MapUsage();
}
