using AgentMarket.Platform.Tenancy;

namespace AgentMarket.Widget;

/// <summary>
/// The embeddable chat widget (SPEC §8): one script tag with a publishable key adds a chat launcher and window to any
/// page of the key's allowed origins; its messages run through the same gateway as every door.
/// </summary>
static class WidgetModule
{
    public static void AddWidget(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<WidgetOptions>().BindConfiguration("Widget").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<WidgetTokens>();
        builder.Services.AddSingleton<WidgetCors>();
        builder.Services.AddSingleton<WidgetLimits>();
        builder.Services.AddSingleton<WidgetAssets>();
    }

    public static void MapWidget(this WebApplication app)
    {
        app.MapGet(WidgetAssets.LoaderPath, (WidgetAssets assets, HttpContext http) => WidgetAssets.Serve(http, assets.Loader))
            .AllowAnyone().ExcludeFromDescription();
        // An old loader still cached somewhere may ask for the previous fingerprint: it gets today's file, uncached.
        app.MapGet("/widget/main.{fingerprint}.js", (string fingerprint, WidgetAssets assets, HttpContext http) =>
                WidgetAssets.Serve(http, assets.Main, assets.Main.Path == $"/widget/main.{fingerprint}.js" ? null : "no-cache"))
            .AllowAnyone().ExcludeFromDescription();
        app.MapWidgetApi();
    }
}
