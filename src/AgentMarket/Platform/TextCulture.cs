using System.Globalization;
using Microsoft.AspNetCore.Localization;

namespace AgentMarket.Platform;

/// <summary>
/// The one culture the product's text is written in (ADR-159). Pages, problem details and emails are English, so their
/// numbers and dates are too: "1,500 credits" and "$12.50" on every server, whatever its locale (a server with
/// LANG=de_DE printed "1.500 credits" and "$12,50").
/// </summary>
static class TextCulture
{
    public static readonly CultureInfo English = CultureInfo.GetCultureInfo("en-US");

    /// <summary>For work outside requests: background jobs writing emails, events and notes.</summary>
    public static void ApplyToProcess()
    {
        CultureInfo.DefaultThreadCurrentCulture = English;
        CultureInfo.DefaultThreadCurrentUICulture = English;
    }

    /// <summary>For requests: the culture is set on each one, never taken from the caller or the thread.</summary>
    public static void UseTextCulture(this WebApplication app) =>
        app.UseRequestLocalization(options =>
        {
            options.DefaultRequestCulture = new RequestCulture(English);
            options.SupportedCultures = [English];
            options.SupportedUICultures = [English];
            options.RequestCultureProviders.Clear();
        });
}
