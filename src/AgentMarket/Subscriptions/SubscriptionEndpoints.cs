using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using AgentMarket.Catalog;
using AgentMarket.Catalog.Pricing;
using AgentMarket.Identity;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Subscriptions;

public sealed record SubscribeRequest([property: Required, MaxLength(100)] string Offering, Guid? Project);
public sealed record OrderResponse(Guid Uuid, OrderType Type, OrderState State, Guid CustomerAgentConfig, Guid Offering, Guid Project, DateTime Created);
public sealed record BrandingRequest([property: MaxLength(7)] string? BrandColor, [property: MaxLength(500)] string? LogoUrl, [property: MaxLength(500)] string? WelcomeMessage);
public sealed record WidgetRequest(WidgetPosition? Position, WidgetTheme? Theme);
public sealed record ModelRequest([property: MaxLength(500)] string? BaseUrl, [property: MaxLength(100)] string? Model, [property: MaxLength(500)] string? ApiKey, bool? ClearApiKey);
public sealed record UpdateConfigRequest(
    [property: MaxLength(120)] string? Name,
    Dictionary<string, JsonElement>? Persona,
    Dictionary<string, JsonElement>? Settings,
    BrandingRequest? Branding,
    WidgetRequest? Widget,
    ModelRequest? Model,
    Guid? KnowledgeBase = null);

public sealed record ListingRef(Guid Uuid, string Slug, string Name);
public sealed record VersionState(string Pinned, string Effective, string Latest, bool UpgradeAvailable);
public sealed record FieldValue(string Key, string Label, string? HelpText, string Kind, IReadOnlyList<string> Options, JsonElement? Value, string? Default,
    double? Minimum = null, double? Maximum = null);
public sealed record BrandingResponse(string? BrandColor, string? LogoUrl, string? WelcomeMessage);
public sealed record WidgetResponse(WidgetPosition Position, WidgetTheme Theme);
/// <param name="OwnEndpointAllowed">False when the agent's provider keeps its prompts from buyers' own endpoints: only a key for the platform's endpoint applies.</param>
public sealed record ModelResponse(string? BaseUrl, string? Model, bool HasApiKey, bool OwnEndpointAllowed);
public sealed record PricingResponse(PricingModel Model, long CreditsPerRun, long CreditsMin, long CreditsMax, PricingTerms? Upcoming, DateTime? UpcomingFrom);
/// <param name="ReportsUsage">
/// The agent runs on its provider's servers and its provider reports each run's usage, charged to this subscription,
/// since <paramref name="ReportsUsageSince"/> (which can be after <paramref name="Subscribed"/>: a provider may move its runtime).
/// </param>
public sealed record ConfigResponse(
    Guid Uuid, string Name, ListingRef Listing, SubscriptionState State, Guid Project, VersionState Version,
    IReadOnlyList<FieldValue> Fields, BrandingResponse Branding, WidgetResponse Widget, ModelResponse Model, PricingResponse Pricing,
    Guid? KnowledgeBase, DateTime Subscribed, DateTime? Terminated, bool ReportsUsage, DateTime? ReportsUsageSince)
{
    /// <summary>Whether the agent's runs search <see cref="KnowledgeBase"/>: its provider declared a knowledge-base field.</summary>
    public bool KnowledgeBaseUsed { get; init; }

    /// <summary>Null while the agent runs; else why its runs are refused (paused or withdrawn by its provider, taken down…).</summary>
    public string? Unavailable { get; init; }

    /// <summary>For a monthly agent, when the month paid ends and the next is charged; null otherwise.</summary>
    public DateTime? RenewsAt { get; init; }

    /// <summary>
    /// While <see cref="ReportsUsage"/>, from when its provider's reports are charged to this subscription: after the notice
    /// period when it started reporting after the buyer subscribed (ADR-158).
    /// </summary>
    public DateTime? ReportsUsageChargedFrom { get; init; }
}

static class SubscriptionEndpoints
{
    public static void MapSubscriptions(this IEndpointRouteBuilder routes)
    {
        var orders = routes.MapGroup("/api/marketplace-orders").WithTags("Subscriptions");
        orders.MapPost("/", SubscribeAsync).WithName("Subscribe").RequireOrganization(MembershipRole.Manager);
        orders.MapGet("/", ListOrdersAsync).WithName("ListOrders").RequireOrganization();

        var configs = routes.MapGroup("/api/customer-agent-configs").WithTags("Subscriptions");
        configs.MapGet("/", ListConfigsAsync).WithName("ListCustomerAgentConfigs").RequireOrganization();
        configs.MapGet("/{uuid:guid}", GetConfigAsync).WithName("GetCustomerAgentConfig").RequireOrganization();
        configs.MapPatch("/{uuid:guid}", UpdateConfigAsync).WithName("UpdateCustomerAgentConfig").RequireOrganization(MembershipRole.Manager);
        configs.MapPost("/{uuid:guid}/upgrade", UpgradeAsync).WithName("UpgradeCustomerAgentConfig").RequireOrganization(MembershipRole.Manager);
        configs.MapDelete("/{uuid:guid}", TerminateAsync).WithName("Unsubscribe").RequireOrganization(MembershipRole.Manager);
    }

    static async Task<IResult> SubscribeAsync(SubscribeRequest request, SubscriptionService subscriptions, CancellationToken ct)
    {
        var (config, order, failure) = await subscriptions.SubscribeAsync(request.Offering, request.Project, ct);
        return failure is not null
            ? ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.Extensions)
            : TypedResults.Created($"/api/customer-agent-configs/{config!.Id}", ToResponse(order!));
    }

    static async Task<IResult> ListOrdersAsync(int? limit, int? offset, AppDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await PageRequest.From(limit, offset).ToPageAsync(
            db.Orders.AsNoTracking().OrderByDescending(o => o.CreatedUtc)
                .Select(o => new OrderResponse(o.Id, o.Type, o.State, o.ConfigId, o.ListingId, o.ProjectId, o.CreatedUtc)), ct));

    static async Task<IResult> ListConfigsAsync(SubscriptionState? state, int? limit, int? offset, SubscriptionViews views, CancellationToken ct) =>
        TypedResults.Ok(await views.PageAsync(state ?? SubscriptionState.Active, PageRequest.From(limit, offset), ct));

    static async Task<IResult> GetConfigAsync(Guid uuid, SubscriptionViews views, CancellationToken ct) =>
        await views.GetAsync(uuid, ct) is { } config ? TypedResults.Ok(config) : ApiProblem.NotFound("agent");

    static async Task<IResult> UpdateConfigAsync(Guid uuid, UpdateConfigRequest request, SubscriptionService subscriptions, SubscriptionViews views, CancellationToken ct)
    {
        var (config, failure) = await subscriptions.UpdateAsync(uuid, request, ct);
        return failure is not null
            ? ApiProblem.Create(failure.Status, failure.Code, failure.Message, failure.Extensions)
            : TypedResults.Ok(await views.GetAsync(config!.Id, ct));
    }

    static async Task<IResult> UpgradeAsync(Guid uuid, SubscriptionService subscriptions, SubscriptionViews views, CancellationToken ct) =>
        await subscriptions.UpgradeAsync(uuid, ct) is { } config ? TypedResults.Ok(await views.GetAsync(config.Id, ct)) : ApiProblem.NotFound("agent");

    static async Task<IResult> TerminateAsync(Guid uuid, SubscriptionService subscriptions, CancellationToken ct) =>
        await subscriptions.TerminateAsync(uuid, ct) ? TypedResults.NoContent() : ApiProblem.NotFound("agent");

    static OrderResponse ToResponse(Order o) => new(o.Id, o.Type, o.State, o.ConfigId, o.ListingId, o.ProjectId, o.CreatedUtc);
}
