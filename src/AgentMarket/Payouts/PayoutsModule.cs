namespace AgentMarket.Payouts;

/// <summary>Providers' payouts: settings, the monthly run (job and operator route), statements, Stripe Connect.</summary>
static class PayoutsModule
{
    public static void AddPayouts(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PayoutsOptions>().BindConfiguration("Payouts").ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PayoutGate>();
        services.AddScoped<PayoutRunner>();
        services.AddScoped<PayoutEvents>();
        services.AddScoped<PayoutAdministration>();
        services.AddScoped<PayoutSettingsService>();
        services.AddScoped<StripeConnectEvents>();
        services.AddScoped<StripeOnboarding>();
        services.AddSingleton<PayoutJob>();
        services.AddHostedService(provider => provider.GetRequiredService<PayoutJob>());
    }

    public static void MapPayouts(this WebApplication app)
    {
        PayoutEndpoints.MapPayouts(app);
        app.MapStripeConnect();
    }
}
