using System.Text.Json;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Platform.Ui;
using AgentMarket.Providers;
using AgentMarket.Runtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AgentMarket.Admin.Settings;

/// <summary>
/// The operator's overrides of configuration (branding, auto-approval, upload limits and image quotas, the outbound allow-list), kept in memory and
/// applied through the options system: <c>IOptionsMonitor&lt;T&gt;.CurrentValue</c> sees a change as soon as this node
/// saved it, and other replicas when <see cref="SettingsRefresher"/> next reloads — no restart.
/// </summary>
public sealed class PlatformSettings(IServiceScopeFactory scopes) : IDisposable
{
    public const string SiteName = "Branding:SiteName";
    public const string Tagline = "Branding:Tagline";
    public const string BrandColor = "Branding:BrandColor";
    public const string FooterText = "Branding:FooterText";
    public const string LogoUrl = "Branding:LogoUrl";
    public const string FaviconUrl = "Branding:FaviconUrl";
    public const string SupportEmail = "Branding:SupportEmail";
    public const string AutoApproveProviders = "Marketplace:AutoApproveProviders";
    public const string AutoApproveListings = "Marketplace:AutoApproveListings";
    public const string MaxImageBytes = "Marketplace:MaxImageBytes";
    public const string MaxFlowBytes = "Marketplace:MaxFlowBytes";
    public const string MaxTrainingFileBytes = "Knowledge:MaxFileBytes";
    public const string MaxImagesPerOrganization = "Marketplace:MaxImagesPerOrganization";
    public const string MaxImageStorageBytesPerOrganization = "Marketplace:MaxImageStorageBytesPerOrganization";

    /// <summary>Stored as a JSON array of hosts and CIDR ranges.</summary>
    public const string OutboundAllowList = "Flows:OutboundAllowList";

    volatile Dictionary<string, string> _values = [];
    CancellationTokenSource _changed = new();

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public IReadOnlyDictionary<string, string> All => _values;

    /// <summary>Fires when any setting changes; options monitors rebuild their values then.</summary>
    public IChangeToken ChangeToken() => new CancellationChangeToken(_changed.Token);

    public async Task ReloadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var loaded = await db.PlatformSettings.AsNoTracking().ToDictionaryAsync(s => s.Key, s => s.Value, ct);
        if (loaded.Count == _values.Count && loaded.All(kv => _values.TryGetValue(kv.Key, out var value) && value == kv.Value))
        {
            return;
        }
        _values = loaded;
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        await previous.CancelAsync();
        previous.Dispose();
    }

    public void Dispose() => _changed.Dispose();

    internal bool? Flag(string key) => Get(key) is { } value && bool.TryParse(value, out var flag) ? flag : null;

    internal long? Number(string key) => Get(key) is { } value && long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var number) ? number : null;

    internal List<string>? List(string key) => Get(key) is { } value ? JsonSerializer.Deserialize<List<string>>(value) : null;
}

/// <summary>Applies stored settings over the bound configuration of <typeparamref name="TOptions"/>, and tells its monitor when they change.</summary>
sealed class SettingsOverrides<TOptions>(PlatformSettings settings, Action<PlatformSettings, TOptions> apply)
    : IPostConfigureOptions<TOptions>, IOptionsChangeTokenSource<TOptions> where TOptions : class
{
    public string Name => Options.DefaultName;

    public void PostConfigure(string? name, TOptions options) => apply(settings, options);

    public IChangeToken GetChangeToken() => settings.ChangeToken();
}

/// <summary>Loads the settings at start-up and re-reads them periodically, so every replica converges on an operator's change.</summary>
sealed class SettingsRefresher(PlatformSettings settings, TimeProvider clock, ILogger<SettingsRefresher> logger) : BackgroundService
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryReloadAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await TryReloadAsync(stoppingToken);
        }
    }

    async Task TryReloadAsync(CancellationToken ct)
    {
        try
        {
            await settings.ReloadAsync(ct);
        }
        catch (Exception e) when (e is DbUpdateException or System.Data.Common.DbException or InvalidOperationException)
        {
            // Configuration alone still works; the next tick tries again.
            logger.LogWarning(e, "Could not load the operator's settings");
        }
    }
}

static class SettingsRegistration
{
    public static void AddPlatformSettings(this IServiceCollection services)
    {
        services.AddSingleton<PlatformSettings>();
        services.AddHostedService<SettingsRefresher>();
        Override<BrandingOptions>(services, (s, o) =>
        {
            o.SiteName = s.Get(PlatformSettings.SiteName) ?? o.SiteName;
            o.Tagline = s.Get(PlatformSettings.Tagline) ?? o.Tagline;
            o.BrandColor = s.Get(PlatformSettings.BrandColor) ?? o.BrandColor;
            o.FooterText = s.Get(PlatformSettings.FooterText) ?? o.FooterText;
            o.LogoUrl = s.Get(PlatformSettings.LogoUrl) is { } logo ? NullIfEmpty(logo) : o.LogoUrl;
            o.FaviconUrl = s.Get(PlatformSettings.FaviconUrl) is { } favicon ? NullIfEmpty(favicon) : o.FaviconUrl;
            o.SupportEmail = s.Get(PlatformSettings.SupportEmail) is { } support ? NullIfEmpty(support) : o.SupportEmail;
        });
        Override<MarketplaceOptions>(services, (s, o) =>
        {
            o.AutoApproveProviders = s.Flag(PlatformSettings.AutoApproveProviders) ?? o.AutoApproveProviders;
            o.AutoApproveListings = s.Flag(PlatformSettings.AutoApproveListings) ?? o.AutoApproveListings;
            o.MaxImageBytes = (int?)s.Number(PlatformSettings.MaxImageBytes) ?? o.MaxImageBytes;
            o.MaxFlowBytes = (int?)s.Number(PlatformSettings.MaxFlowBytes) ?? o.MaxFlowBytes;
            o.MaxImagesPerOrganization = (int?)s.Number(PlatformSettings.MaxImagesPerOrganization) ?? o.MaxImagesPerOrganization;
            o.MaxImageStorageBytesPerOrganization = s.Number(PlatformSettings.MaxImageStorageBytesPerOrganization) ?? o.MaxImageStorageBytesPerOrganization;
        });
        Override<Knowledge.KnowledgeOptions>(services, (s, o) => o.MaxFileBytes = s.Number(PlatformSettings.MaxTrainingFileBytes) ?? o.MaxFileBytes);
        Override<FlowsOptions>(services, (s, o) => o.OutboundAllowList = s.List(PlatformSettings.OutboundAllowList) ?? o.OutboundAllowList);
    }

    static void Override<TOptions>(IServiceCollection services, Action<PlatformSettings, TOptions> apply) where TOptions : class
    {
        services.AddSingleton(sp => new SettingsOverrides<TOptions>(sp.GetRequiredService<PlatformSettings>(), apply));
        services.AddSingleton<IPostConfigureOptions<TOptions>>(sp => sp.GetRequiredService<SettingsOverrides<TOptions>>());
        services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(sp => sp.GetRequiredService<SettingsOverrides<TOptions>>());
    }

    static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
