using AgentMarket.Webhooks.Jobs;

namespace AgentMarket.Webhooks;

/// <summary>Outbound webhooks (SPEC §8): endpoints, signed deliveries from the transactional outbox, the delivery log.</summary>
static class WebhooksModule
{
    public static void AddWebhooks(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<WebhooksOptions>().BindConfiguration("Webhooks").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton<WebhookUrls>();
        services.AddScoped<WebhookEndpoints>();
        services.AddSingleton<WebhookDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDispatcher>());
    }

    public static void MapWebhooks(this WebApplication app) => app.MapWebhooksApi();
}
