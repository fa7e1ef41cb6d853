namespace AgentMarket.Subscriptions;

/// <summary>Buyers' subscriptions (SPEC §6): orders, customer agent configs, version pinning.</summary>
static class SubscriptionsModule
{
    public static void AddSubscriptions(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<SubscriptionService>();
        builder.Services.AddScoped<SubscriptionViews>();
        builder.Services.AddScoped<AgentVersionPolicy>();
        builder.Services.AddSingleton<Microsoft.EntityFrameworkCore.Diagnostics.IInterceptor, SubscriberNotices>();
        builder.Services.AddSingleton<Jobs.SubscriptionCharges>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<Jobs.SubscriptionCharges>());
    }

    public static void MapSubscriptions(this WebApplication app) => ((IEndpointRouteBuilder)app).MapSubscriptions();
}
