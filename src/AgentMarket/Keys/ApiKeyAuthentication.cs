using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Keys;

/// <summary>What a valid key grants: one subscription of one organization; runs only with the <c>run</c> scope.</summary>
/// <param name="OrganizationSuspended">An operator suspended the key's organization: the key is valid, and refused everywhere with 403.</param>
public sealed record KeyGrant(Guid KeyId, Guid OrganizationId, Guid ConfigId, ApiKeyKind Kind, IReadOnlyList<string> AllowedOrigins,
    int? RateLimitPerMinute, long? BudgetCredits, bool CanRun = true, bool OrganizationSuspended = false);

/// <summary>
/// Looks keys up by hash. A key is the capability itself, so the lookup runs in a system scope (no tenant is known before
/// it); results are cached for at most a second, so a revocation on another replica takes effect within that second and
/// on this one at once (<see cref="Forget"/>). Only keys found are cached: anyone can send made-up well-formed keys, and
/// remembering each would grow the cache without bound (a miss costs an indexed lookup; the rate limits bound those).
/// </summary>
public sealed class ApiKeyDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(1);

    // Recording every use would turn each run into a write; a minute's precision is enough for "last used".
    static readonly TimeSpan LastUsedPrecision = TimeSpan.FromMinutes(1);

    readonly ConcurrentDictionary<string, (DateTime LoadedUtc, KeyGrant Grant)> _cache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<Guid, (DateTime LoadedUtc, KeyGrant Grant)> _byId = new();
    readonly ConcurrentDictionary<Guid, DateTime> _lastUsed = new();

    public async Task<KeyGrant?> FindAsync(string secret, CancellationToken ct)
    {
        var hash = SecretToken.Hash(secret);
        var now = clock.GetUtcNow().UtcDateTime;
        if (_cache.TryGetValue(hash, out var cached) && now - cached.LoadedUtc < CacheLifetime)
        {
            return cached.Grant;
        }
        // Each term is an indexed lookup by hash; a key has at most two earlier secrets in their grace (ADR-141).
        var key = await LoadAsync(k => k.KeyHash == hash || (k.GraceKeyHash == hash && k.GraceUntilUtc > now) || (k.OlderGraceKeyHash == hash && k.OlderGraceUntilUtc > now),
            now, ct);
        Remember(_cache, hash, now, key);
        return key;
    }

    /// <summary>
    /// A key by id, for sessions opened with it earlier (the widget's): the same checks and cache as <see cref="FindAsync"/>,
    /// so revoking or expiring the key ends those sessions as promptly as it stops the key.
    /// </summary>
    public async Task<KeyGrant?> FindByIdAsync(Guid keyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (_byId.TryGetValue(keyId, out var cached) && now - cached.LoadedUtc < CacheLifetime)
        {
            return cached.Grant;
        }
        var key = await LoadAsync(k => k.Id == keyId, now, ct);
        Remember(_byId, keyId, now, key);
        return key;
    }

    /// <summary>Caches a key found; forgets one no longer found (revoked, expired), as it does made-up ones.</summary>
    static void Remember<TKey>(ConcurrentDictionary<TKey, (DateTime LoadedUtc, KeyGrant Grant)> cache, TKey lookup, DateTime now, KeyGrant? key)
        where TKey : notnull
    {
        if (key is null)
        {
            cache.TryRemove(lookup, out _);
        }
        else
        {
            cache[lookup] = (now, key);
        }
    }

    /// <summary>Whether a lookup of <paramref name="secret"/> is cached (for tests: misses must not be).</summary>
    internal bool IsCached(string secret) => _cache.ContainsKey(SecretToken.Hash(secret));

    async Task<KeyGrant?> LoadAsync(System.Linq.Expressions.Expression<Func<ApiKey, bool>> match, DateTime now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentTenant>().EnterSystemScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var key = await db.ApiKeys.AsNoTracking()
            .Where(match)
            .Where(k => k.RevokedUtc == null && (k.ExpiresUtc == null || k.ExpiresUtc > now))
            .Where(k => db.CustomerAgentConfigs.Any(c => c.Id == k.ConfigId && c.State != Subscriptions.SubscriptionState.Terminated))
            .Select(k => new { Key = k, Suspended = db.Organizations.Any(o => o.Id == k.OrganizationId && o.SuspendedUtc != null) })
            .FirstOrDefaultAsync(ct) is { Key: var found } row
            ? new KeyGrant(found.Id, found.OrganizationId, found.ConfigId, found.Kind, found.AllowedOrigins, found.RateLimitPerMinute, found.BudgetCredits,
                CanRun: found.Scopes.Contains(AgentKeys.RunScope), OrganizationSuspended: row.Suspended)
            : null;
        if (key is not null && (!_lastUsed.TryGetValue(key.KeyId, out var last) || now - last > LastUsedPrecision))
        {
            _lastUsed[key.KeyId] = now;
            await db.ApiKeys.Where(k => k.Id == key.KeyId).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedUtc, now), ct);
        }
        return key;
    }

    /// <summary>Drops every cached lookup, so this node sees a revocation or rotation at once.</summary>
    public void Forget()
    {
        _cache.Clear();
        _byId.Clear();
    }
}

/// <summary>
/// Authenticates agent keys: <c>Authorization: Bearer am_live_…</c>, <c>x-api-key</c> header or <c>x-api-key</c> query
/// parameter (Langflow clients send it there). The principal carries the key, organization and subscription.
/// </summary>
sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, ApiKeyDirectory keys)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SecretPrefix = "am_live_";
    public const string PublishablePrefix = "am_pub_";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } secret)
        {
            return AuthenticateResult.NoResult();
        }
        if (!SecretToken.IsWellFormed(secret, SecretPrefix) && !SecretToken.IsWellFormed(secret, PublishablePrefix))
        {
            return CredentialRefused.Fail(Context, "Malformed key. Send a valid one.");
        }
        if (await keys.FindAsync(secret, Context.RequestAborted) is not { } grant)
        {
            return CredentialRefused.Fail(Context, "Unknown, revoked or expired key. Send a valid one.");
        }
        if (grant.OrganizationSuspended)
        {
            return CredentialRefused.Fail(Context, CredentialRefused.OrganizationSuspended);
        }
        var identity = new ClaimsIdentity(
        [
            new Claim(AppClaims.KeyId, grant.KeyId.ToString()),
            new Claim(AppClaims.KeyOrganization, grant.OrganizationId.ToString()),
            new Claim(AppClaims.KeyConfig, grant.ConfigId.ToString()),
            new Claim(AppClaims.KeyKind, grant.Kind.ToString()),
        ], Scheme.Name);
        Context.Features.Set(grant);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    /// <summary>A refusal that is not about the key itself (its organization is suspended) answers with its own status.</summary>
    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (Context.Features.Get<CredentialRefused>() is { Status: var status } && status != StatusCodes.Status401Unauthorized)
        {
            Response.StatusCode = status;
            return Task.CompletedTask;
        }
        return base.HandleChallengeAsync(properties);
    }

    /// <summary>The key the request presents, if any.</summary>
    public static string? Presented(HttpRequest request)
    {
        var bearer = Identity.PersonalAccessTokenHandler.BearerToken(request);
        if (bearer is not null && (bearer.StartsWith(SecretPrefix, StringComparison.Ordinal) || bearer.StartsWith(PublishablePrefix, StringComparison.Ordinal)))
        {
            return bearer;
        }
        var header = request.Headers["x-api-key"].ToString().Trim();
        if (header.Length > 0)
        {
            // An organization token there is the token handler's (Langflow clients send only this header).
            return header.StartsWith(Identity.PersonalAccessTokenHandler.Prefix, StringComparison.Ordinal) ? null : header;
        }
        var query = request.Query["x-api-key"].ToString();
        return query.Length > 0 ? query.Trim() : null;
    }
}
