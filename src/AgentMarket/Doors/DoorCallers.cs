using AgentMarket.Keys;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Doors;

/// <summary>
/// Who is calling a door: an organization (its tenant already set for the request) and, for an agent key, the key,
/// which binds the caller to that key's one subscription.
/// </summary>
public sealed record DoorCaller(Guid OrganizationId, KeyGrant? Key);

/// <summary>Why a door refuses a caller before looking at the request.</summary>
public enum DoorRefusal
{
    /// <summary>No key or token came with the request.</summary>
    NoCredentials,

    /// <summary>A key or token came, but it is unknown, revoked, expired or malformed.</summary>
    InvalidCredentials,

    /// <summary>A publishable key: it is visible in web pages, so it only serves the widget.</summary>
    PublishableKey,

    /// <summary>A token whose user is not a member of the requested organization (or of any).</summary>
    UnknownOrganization,

    /// <summary>A valid key or token of an organization an operator suspended.</summary>
    OrganizationSuspended,
}

/// <summary>One subscribed agent as the doors show it.</summary>
public sealed record DoorAgent(Guid ConfigId, string Name, string Slug, string Title, string Description, Guid ProviderId, DateTime SubscribedUtc);

/// <summary>
/// Authenticates door callers and lists the agents they may use. Keys and organization tokens are accepted everywhere;
/// the signed-in cookie only where <c>allowCookie</c> says so (the Langflow door lives under <c>/api</c> with the run API's
/// rules), because <c>/v1</c> and <c>/mcp</c> are for programs, which send a bearer credential.
/// </summary>
public sealed class DoorCallers(AppDbContext db, Gateway.GatewayCache cache)
{
    public static async Task<(DoorCaller? Caller, DoorRefusal? Refusal)> AuthenticateAsync(HttpContext http, bool allowCookie, CancellationToken ct)
    {
        var identity = http.User.Identity;
        if (identity?.IsAuthenticated != true || (!allowCookie && identity.AuthenticationType == AuthSchemes.Cookie))
        {
            var presented = http.Request.Headers.Authorization.Count > 0 || ApiKeyAuthenticationHandler.Presented(http.Request) is not null;
            return (null, http.Features.Get<CredentialRefused>()?.Code == ProblemCodes.OrganizationSuspended ? DoorRefusal.OrganizationSuspended
                : presented ? DoorRefusal.InvalidCredentials : DoorRefusal.NoCredentials);
        }
        var key = http.Features.Get<KeyGrant>();
        if (key?.Kind == ApiKeyKind.Publishable)
        {
            return (null, DoorRefusal.PublishableKey);
        }
        if (await OrganizationScope.ResolveAsync(http, null, ct) is not { } organization)
        {
            return (null, DoorRefusal.UnknownOrganization);
        }
        // A suspended organization's tokens stop at the door like its keys (which their authentication already refuses).
        var cache = http.RequestServices.GetRequiredService<Gateway.GatewayCache>();
        return (await cache.OrganizationAsync(organization, ct)).Suspended
            ? (null, DoorRefusal.OrganizationSuspended)
            : (new DoorCaller(organization, key), null);
    }

    /// <summary>
    /// The caller's agents, oldest subscription first, named for a door whose names may be <paramref name="maxNameLength"/>
    /// long: a key's one subscription, or every subscription of the organization that is not terminated. Reads through
    /// the tenant filter, so another organization's subscriptions can never appear.
    /// </summary>
    public async Task<IReadOnlyList<DoorAgent>> ListAsync(DoorCaller caller, int maxNameLength, CancellationToken ct)
    {
        var configs = db.CustomerAgentConfigs.AsNoTracking().Where(c => c.State != SubscriptionState.Terminated);
        if (caller.Key is { } key)
        {
            configs = configs.Where(c => c.Id == key.ConfigId);
        }
        var rows = await configs.OrderBy(c => c.SubscribedUtc).ThenBy(c => c.Id)
            .Select(c => new { c.Id, c.Listing!.Slug, c.Listing.Name, c.Listing.ShortDescription, c.Listing.ProviderId, c.SubscribedUtc })
            .ToListAsync(ct);
        var names = AgentNames.Assign([.. rows.Select(r => (r.Id, r.Slug))], maxNameLength);
        return [.. rows.Select((r, i) => new DoorAgent(r.Id, names[i], r.Slug, r.Name, r.ShortDescription, r.ProviderId, r.SubscribedUtc))];
    }

    /// <summary>The subscription <paramref name="configId"/> when the caller may run it (not terminated; the key's own), else null.</summary>
    public Task<CustomerAgentConfig?> RunnableAsync(DoorCaller caller, Guid configId, CancellationToken ct) =>
        caller.Key is { } key && key.ConfigId != configId
            ? Task.FromResult<CustomerAgentConfig?>(null)
            : db.CustomerAgentConfigs.AsNoTracking().FirstOrDefaultAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct);

    /// <summary>
    /// The caller's agent called <paramref name="name"/> (exactly as <see cref="ListAsync"/> names it, or by a slug its
    /// listing had before its provider changed it, so integrations written against the old slug keep working), or null.
    /// </summary>
    public async Task<DoorAgent?> FindAsync(DoorCaller caller, string name, int maxNameLength, CancellationToken ct)
    {
        if (caller.Key is { } key)
        {
            // A key's list is its one subscription, so its one name needs no query: the gateway's cache holds the
            // subscription with its listing (the run reads it there next anyway). The cache reads across tenants, hence
            // the organization check.
            if (await cache.SubscriptionAsync(key.ConfigId, ct) is not { } subscription || subscription.Config.OrganizationId != caller.OrganizationId
                || subscription.Config.State == SubscriptionState.Terminated)
            {
                return null;
            }
            var (config, listing) = (subscription.Config, subscription.Listing);
            var own = AgentNames.Assign([(config.Id, listing.Slug)], maxNameLength)[0];
            return string.Equals(own, name, StringComparison.OrdinalIgnoreCase) || await RetiredSlugOfAsync(name, ct) == listing.Slug
                ? new DoorAgent(config.Id, own, listing.Slug, listing.Name, listing.ShortDescription, listing.ProviderId, config.SubscribedUtc)
                : null;
        }
        var agents = await ListAsync(caller, maxNameLength, ct);
        if (agents.FirstOrDefault(agent => string.Equals(agent.Name, name, StringComparison.OrdinalIgnoreCase)) is { } named)
        {
            return named;
        }
        return await RetiredSlugOfAsync(name, ct) is { } current ? agents.FirstOrDefault(agent => agent.Slug == current) : null;
    }

    /// <summary>The current slug of the listing that had <paramref name="name"/> as its slug before a change, or null.</summary>
    Task<string?> RetiredSlugOfAsync(string name, CancellationToken ct)
    {
        var slug = name.ToLowerInvariant();
        return db.RetiredListingSlugs.AsNoTracking().Where(r => r.Slug == slug)
            .Join(db.Listings, r => r.ListingId, l => l.Id, (r, l) => l.Slug)
            .FirstOrDefaultAsync(ct);
    }
}
