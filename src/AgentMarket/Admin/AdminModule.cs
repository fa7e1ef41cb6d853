using AgentMarket.Admin.Metrics;
using AgentMarket.Admin.PlatformMetrics;
using AgentMarket.Admin.Settings;
using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Admin;

/// <summary>The operator console (operators only; everyone else gets 404).</summary>
static class AdminModule
{
    public static void AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<ProviderDecisions>();
        builder.Services.AddScoped<ProviderProfileDecisions>();
        builder.Services.AddScoped<Suspensions>();
        builder.Services.AddScoped<CreditAdjustments>();
        builder.Services.AddScoped<PaymentAdministration>();
        builder.Services.AddPlatformSettings();
        builder.Services.AddScoped<Settings.SettingsReader>();
        builder.Services.AddScoped<Settings.SettingsWriter>();
        builder.Services.AddScoped<PlatformRollups>();
        builder.Services.AddScoped<PlatformMetricsQueries>();
        builder.Services.AddScoped<EmailOutbox>();
        builder.Services.AddSingleton<Metrics.PrometheusExporter>();
        builder.Services.AddOptions<Metrics.MetricsOptions>().BindConfiguration("Metrics");
    }

    public static void MapAdmin(this WebApplication app)
    {
        app.MapProviderApprovals();
        app.MapCreditAdmin();
        app.MapOrganizationAdmin();
        app.MapSettingsAdmin();
        app.MapCategoryAdmin();
        app.MapEmailAdmin();
        app.MapMetrics();
        app.MapPlatformMetrics();
    }
}
