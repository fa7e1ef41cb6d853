using AgentMarket.Doors.Langflow;
using AgentMarket.Doors.Mcp;
using AgentMarket.Doors.OpenAi;

namespace AgentMarket.Doors;

/// <summary>
/// The front doors other tools already speak (SPEC §8): Langflow's run API, OpenAI's chat completions and MCP. Each is
/// a translation onto the one run gateway: same keys, same credits, same metering.
/// </summary>
static class DoorsModule
{
    /// <summary>Langflow's embedded chat widget calls the run API from other sites' pages.</summary>
    const string LangflowCors = "langflow";

    public static void AddDoors(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<DoorCallers>();
        builder.Services.AddScoped<DoorSnippets>();
        builder.Services.AddSingleton<WebhookQueue>();
        builder.Services.AddHostedService<WebhookWorker>();
        builder.Services.AddSingleton<McpCalls>();
        // As Langflow does: any origin, header and method; credentials are the x-api-key, never cookies.
        builder.Services.AddCors(o => o.AddPolicy(LangflowCors, p => p.AllowAnyOrigin().AllowAnyHeader().AllowAnyMethod()));
        builder.Services.AddTransient<IStartupFilter, LangflowCorsFilter>();
    }

    public static void MapDoors(this WebApplication app)
    {
        app.MapLangflowDoor();
        app.MapOpenAiDoor();
        app.MapMcpDoor();
    }

    /// <summary>
    /// CORS for the Langflow door only, ahead of the whole pipeline: a preflight must be answered before authentication,
    /// and a 401 must carry the CORS headers too, or the browser reports a network error instead of the refusal.
    /// </summary>
    sealed class LangflowCorsFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseWhen(context => LangflowEndpoints.Serves(context.Request.Path), branch => branch.UseCors(LangflowCors));
            next(app);
        };
    }
}
