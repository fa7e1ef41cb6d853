using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Platform.Ui;
using AgentMarket.Providers;
using AgentMarket.Runtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Admin.Settings;

/// <summary>
/// Fields left out (or null) stay as they are; an empty logo or favicon URL or support email removes it. Upload limits and
/// image quotas are within the bounds configuration allows (<see cref="LimitSetting"/>), sizes in bytes.
/// </summary>
public sealed record UpdateSettingsRequest(
    [property: MinLength(1), MaxLength(100)] string? SiteName,
    [property: MinLength(1), MaxLength(200)] string? Tagline,
    string? BrandColor,
    [property: MaxLength(300)] string? FooterText,
    [property: MaxLength(1000)] string? LogoUrl,
    [property: MaxLength(1000)] string? FaviconUrl,
    [property: MaxLength(254)] string? SupportEmail,
    bool? AutoApproveProviders,
    bool? AutoApproveListings,
    List<string>? OutboundAllowList,
    long? MaxImageBytes = null,
    long? MaxFlowBytes = null,
    long? MaxTrainingFileBytes = null,
    long? MaxImagesPerOrganization = null,
    long? MaxImageStorageBytesPerOrganization = null);

public sealed record SettingsResponse(string SiteName, string Tagline, string BrandColor, string FooterText, string? LogoUrl, string? FaviconUrl,
    string? SupportEmail, bool AutoApproveProviders, bool AutoApproveListings, IReadOnlyList<string> OutboundAllowList,
    long MaxImageBytes, long MaxFlowBytes, long MaxTrainingFileBytes, long MaxImagesPerOrganization, long MaxImageStorageBytesPerOrganization,
    IReadOnlyList<string> Overridden);

/// <summary>
/// A number the operator sets (an upload limit, an image quota): its API field, its settings key, whether it is a size in
/// bytes, how a request and the settings in effect carry it, and the options property whose <see cref="RangeAttribute"/>
/// bounds it — a stored value outside that range would fail the options' validation on every request that reads them.
/// </summary>
sealed record LimitSetting(string Field, string Key, bool IsSize, PropertyInfo Option,
    Func<UpdateSettingsRequest, long?> Requested, Func<SettingsResponse, long> Current)
{
    public static readonly LimitSetting[] All =
    [
        new("max_image_bytes", PlatformSettings.MaxImageBytes, true, typeof(MarketplaceOptions).GetProperty(nameof(MarketplaceOptions.MaxImageBytes))!,
            r => r.MaxImageBytes, s => s.MaxImageBytes),
        new("max_flow_bytes", PlatformSettings.MaxFlowBytes, true, typeof(MarketplaceOptions).GetProperty(nameof(MarketplaceOptions.MaxFlowBytes))!,
            r => r.MaxFlowBytes, s => s.MaxFlowBytes),
        new("max_training_file_bytes", PlatformSettings.MaxTrainingFileBytes, true, typeof(Knowledge.KnowledgeOptions).GetProperty(nameof(Knowledge.KnowledgeOptions.MaxFileBytes))!,
            r => r.MaxTrainingFileBytes, s => s.MaxTrainingFileBytes),
        new("max_images_per_organization", PlatformSettings.MaxImagesPerOrganization, false,
            typeof(MarketplaceOptions).GetProperty(nameof(MarketplaceOptions.MaxImagesPerOrganization))!,
            r => r.MaxImagesPerOrganization, s => s.MaxImagesPerOrganization),
        new("max_image_storage_bytes_per_organization", PlatformSettings.MaxImageStorageBytesPerOrganization, true,
            typeof(MarketplaceOptions).GetProperty(nameof(MarketplaceOptions.MaxImageStorageBytesPerOrganization))!,
            r => r.MaxImageStorageBytesPerOrganization, s => s.MaxImageStorageBytesPerOrganization),
    ];

    public long Min => Convert.ToInt64(Range.Minimum, CultureInfo.InvariantCulture);

    public long Max => Convert.ToInt64(Range.Maximum, CultureInfo.InvariantCulture);

    RangeAttribute Range => Option.GetCustomAttribute<RangeAttribute>()!;

    /// <summary>What to do with a value outside the bounds.</summary>
    public string OutOfBounds => IsSize
        ? $"Use a size between {ByteSize.Format(Min)} and {ByteSize.Format(Max)} ({Min:D} to {Max:D} bytes)."
        : string.Create(CultureInfo.InvariantCulture, $"Use a number between {Min:N0} and {Max:N0}.");
}

/// <summary>The operator's settings: what is in effect, and changes that apply without a restart and are audited.</summary>
static partial class SettingsEndpoints
{
    public static void MapSettingsAdmin(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/admin/settings", Get).WithTags("Admin").WithName("AdminGetSettings").RequireOperator();
        routes.MapPatch("/api/admin/settings", UpdateAsync).WithTags("Admin").WithName("AdminUpdateSettings").RequireOperator();
    }

    static Microsoft.AspNetCore.Http.HttpResults.Ok<SettingsResponse> Get(SettingsReader reader) => TypedResults.Ok(reader.Current());

    static async Task<IResult> UpdateAsync(UpdateSettingsRequest request, SettingsWriter writer, SettingsReader reader, CancellationToken ct)
    {
        var (changes, invalid) = Validate(request);
        if (invalid is { } field)
        {
            return ApiProblem.Invalid(field.Name, field.Message);
        }
        await writer.SaveAsync(changes, ct);
        return TypedResults.Ok(reader.Current());
    }

    /// <summary>The settings to store, as configuration keys and values, or the first invalid field (its form name and what to do).</summary>
    internal static (Dictionary<string, string> Changes, InvalidSetting? Invalid) Validate(UpdateSettingsRequest request)
    {
        var changes = new Dictionary<string, string>();
        void Text(string key, string? value)
        {
            if (value is not null)
            {
                changes[key] = value.Trim();
            }
        }
        Text(PlatformSettings.SiteName, request.SiteName);
        Text(PlatformSettings.Tagline, request.Tagline);
        Text(PlatformSettings.FooterText, request.FooterText);
        if (request.BrandColor is { } color)
        {
            if (!HexColor().IsMatch(color.Trim()))
            {
                return (changes, new("brand_color", "Use a color like #7c3aed."));
            }
            changes[PlatformSettings.BrandColor] = color.Trim().ToLowerInvariant();
        }
        foreach (var (field, key, value) in new[] { ("logo_url", PlatformSettings.LogoUrl, request.LogoUrl), ("favicon_url", PlatformSettings.FaviconUrl, request.FaviconUrl) })
        {
            if (value is null)
            {
                continue;
            }
            var url = value.Trim();
            // Pages render these as <img src>/<link href>: only site paths and http(s) URLs, never javascript: or data:.
            if (url.Length > 0 && !url.StartsWith('/') && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)))
            {
                return (changes, new(field, "Use an https:// URL or a path on this site."));
            }
            changes[key] = url;
        }
        if (request.SupportEmail?.Trim() is { } support)
        {
            // Pages write it into a mailto: link, so only an address that parses back to itself.
            if (support.Length > 0 && Identity.Accounts.ValidateEmail(support) is not null)
            {
                return (changes, new("support_email", "Use an email address like support@example.com, or leave it empty."));
            }
            changes[PlatformSettings.SupportEmail] = support;
        }
        if (request.AutoApproveProviders is { } providers)
        {
            changes[PlatformSettings.AutoApproveProviders] = providers ? "true" : "false";
        }
        if (request.AutoApproveListings is { } listings)
        {
            changes[PlatformSettings.AutoApproveListings] = listings ? "true" : "false";
        }
        foreach (var limit in LimitSetting.All)
        {
            if (limit.Requested(request) is not { } value)
            {
                continue;
            }
            if (value < limit.Min || value > limit.Max)
            {
                return (changes, new(limit.Field, limit.OutOfBounds));
            }
            changes[limit.Key] = value.ToString(CultureInfo.InvariantCulture);
        }
        if (request.OutboundAllowList is { } allowList)
        {
            var entries = allowList.Select(e => e?.Trim() ?? "").Where(e => e.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (entries.FirstOrDefault(e => !IsHostOrNetwork(e)) is { } bad)
            {
                return (changes, new("outbound_allow_list", $"'{bad}' is neither a host name nor an address range like 10.0.0.0/8."));
            }
            changes[PlatformSettings.OutboundAllowList] = JsonSerializer.Serialize(entries);
        }
        return (changes, null);
    }

    static bool IsHostOrNetwork(string entry) =>
        entry.Length <= 253 && (IPNetwork.TryParse(entry, out _) || IPAddress.TryParse(entry, out _) || Uri.CheckHostName(entry) == UriHostNameType.Dns);

    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColor();
}

/// <summary>A setting the operator must correct: its field name (as the API and the form spell it) and what to do.</summary>
sealed record InvalidSetting(string Name, string Message);

/// <summary>What is in effect: configuration with the operator's overrides applied.</summary>
sealed class SettingsReader(IOptionsMonitor<BrandingOptions> branding, IOptionsMonitor<MarketplaceOptions> marketplace, IOptionsMonitor<FlowsOptions> flows,
    UploadLimits uploads, PlatformSettings settings)
{
    public SettingsResponse Current()
    {
        var b = branding.CurrentValue;
        var m = marketplace.CurrentValue;
        return new SettingsResponse(b.SiteName, b.Tagline, b.SafeBrandColor, b.FooterText, b.LogoUrl, b.FaviconUrl, b.SupportEmail, m.AutoApproveProviders, m.AutoApproveListings,
            flows.CurrentValue.OutboundAllowList, uploads.For(UploadKind.Image).MaxBytes, uploads.For(UploadKind.Flow).MaxBytes,
            uploads.For(UploadKind.Document).MaxBytes, m.MaxImagesPerOrganization, m.MaxImageStorageBytesPerOrganization,
            [.. settings.All.Keys.Order(StringComparer.Ordinal)]);
    }
}

/// <summary>Stores changed settings with one audit entry (before and after of each changed key), then applies them on this node.</summary>
sealed class SettingsWriter(AppDbContext db, AuditLog audit, PlatformSettings settings, CurrentTenant tenant, TimeProvider clock)
{
    public async Task SaveAsync(IReadOnlyDictionary<string, string> changes, CancellationToken ct)
    {
        var keys = changes.Keys.ToList();
        var stored = await db.PlatformSettings.Where(s => keys.Contains(s.Key)).ToDictionaryAsync(s => s.Key, ct);
        var before = new Dictionary<string, string?>();
        var after = new Dictionary<string, string>();
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var (key, value) in changes)
        {
            var previous = stored.TryGetValue(key, out var row) ? row.Value : null;
            if (previous == value)
            {
                continue;
            }
            before[key] = previous;
            after[key] = value;
            if (row is null)
            {
                db.PlatformSettings.Add(new PlatformSetting { Key = key, Value = value, UpdatedUtc = now, UpdatedByUserId = tenant.UserId });
            }
            else
            {
                row.Value = value;
                row.UpdatedUtc = now;
                row.UpdatedByUserId = tenant.UserId;
            }
        }
        if (after.Count == 0)
        {
            return;
        }
        // The changed keys are in before/after; the target is the settings as a whole.
        audit.Record(AuditActions.SettingsChanged, null, "settings", null, before, after);
        await db.SaveChangesAsync(ct);
        await settings.ReloadAsync(ct);
    }
}
