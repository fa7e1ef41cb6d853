using AgentMarket.Audit;
using AgentMarket.Identity;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Keys;

public sealed record CreateKeyRequest(
    Guid? Config,
    [property: System.ComponentModel.DataAnnotations.Required, System.ComponentModel.DataAnnotations.MinLength(1), System.ComponentModel.DataAnnotations.MaxLength(100)] string Name,
    List<string>? Scopes,
    DateTime? ExpiresAt,
    [property: System.ComponentModel.DataAnnotations.Range(1, 1_000_000_000)] long? BudgetCredits,
    [property: System.ComponentModel.DataAnnotations.Range(1, 1_000_000)] int? RateLimitPerMinute,
    ApiKeyKind Kind = ApiKeyKind.Secret,
    List<string>? AllowedOrigins = null);

public sealed record RegenerateKeyRequest([property: System.ComponentModel.DataAnnotations.Range(0, 720)] int? GraceHours);
public sealed record UpdateKeyRequest(List<string>? AllowedOrigins);
public sealed record CreatedKeyResponse(Guid Uuid, string Name, string Prefix, string Key, ApiKeyKind Kind, Guid Config, DateTime? GraceUntil);
public sealed record KeyResponse(Guid Uuid, string Name, string Prefix, ApiKeyKind Kind, Guid Config, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedOrigins,
    DateTime Created, DateTime? LastUsed, DateTime? Expires, long? BudgetCredits, long Spent, int? RateLimitPerMinute, bool Revoked,
    DateTime? EarlierSecretsUntil);

/// <summary>Creating, rotating and revoking agent keys; the API and the keys page share it.</summary>
public sealed class AgentKeys(
    AppDbContext db, CurrentTenant tenant, ApiKeyDirectory directory, IDataProtectionProvider protection, IOptions<KeysOptions> options, TimeProvider clock, AuditLog audit)
{
    /// <summary>Running the agent, which spends credits; a key without it (only <c>read</c>) is refused by every door.</summary>
    public const string RunScope = "run";

    public static readonly string[] KnownScopes = [RunScope, "read"];

    /// <summary>The Data Protection purpose of <see cref="ApiKey.PublishableKeyProtected"/>.</summary>
    public const string PublishableKeyPurpose = "AgentMarket.Keys.PublishableKey.v1";

    /// <summary>Allowed origins per publishable key: one per site (scheme, host and port) the widget is embedded on.</summary>
    public const int MaxAllowedOrigins = 50;

    const int MaxOriginLength = 253 + 20; // the longest DNS name, plus scheme and port

    // A rotation that loses to a concurrent one tries again on top of it; this many losses in a row (a burst of rotations
    // of one key) end it with 409 rather than keep the request waiting.
    const int RotationAttempts = 10;

    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    public async Task<(CreatedKeyResponse? Created, Failure? Failure)> CreateAsync(CreateKeyRequest request, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (request.Config is not { } configId)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Name the subscription the key is for.", "config"));
        }
        if (await db.CustomerAgentConfigs.Where(c => c.Id == configId && c.State != SubscriptionState.Terminated).Select(c => (Guid?)c.OrganizationId).FirstOrDefaultAsync(ct)
            is not { } organization)
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found."));
        }
        if (await db.Organizations.IsSuspendedAsync(organization, ct))
        {
            return (null, new Failure(StatusCodes.Status403Forbidden, ProblemCodes.OrganizationSuspended, ProblemCodes.OrganizationSuspendedMessage));
        }
        if (request.ExpiresAt is { } expires && expires.ToUniversalTime() <= now)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "The expiry must be in the future.", "expires_at"));
        }
        var scopes = request.Scopes is { Count: > 0 } ? request.Scopes.Distinct().ToList() : ["run"];
        if (scopes.FirstOrDefault(s => !KnownScopes.Contains(s)) is { } unknown)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"Unknown scope '{unknown}'; use run or read.", "scopes"));
        }
        List<string> origins = [];
        if (request.Kind == ApiKeyKind.Publishable)
        {
            var (normalized, invalid) = NormalizeOrigins(request.AllowedOrigins);
            if (invalid is not null)
            {
                return (null, invalid);
            }
            origins = normalized!;
        }
        else if (request.AllowedOrigins is { Count: > 0 })
        {
            // A secret key must never reach a browser, so it has no origins to allow.
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Only publishable keys have allowed origins.", "allowed_origins"));
        }
        var prefix = request.Kind == ApiKeyKind.Publishable ? ApiKeyAuthenticationHandler.PublishablePrefix : ApiKeyAuthenticationHandler.SecretPrefix;
        var secret = SecretToken.Generate(prefix);
        var key = new ApiKey
        {
            OrganizationId = tenant.RequiredOrganizationId,
            ConfigId = configId,
            Name = request.Name.Trim(),
            Kind = request.Kind,
            Prefix = SecretToken.DisplayPrefix(secret, prefix),
            KeyHash = SecretToken.Hash(secret),
            Scopes = scopes,
            AllowedOrigins = origins,
            PublishableKeyProtected = request.Kind == ApiKeyKind.Publishable ? protection.CreateProtector(PublishableKeyPurpose).Protect(secret) : null,
            BudgetCredits = request.BudgetCredits,
            RateLimitPerMinute = request.RateLimitPerMinute,
            CreatedByUserId = tenant.UserId,
            CreatedUtc = now,
            ExpiresUtc = request.ExpiresAt?.ToUniversalTime(),
        };
        db.ApiKeys.Add(key);
        audit.Record(AuditActions.AgentKeyCreated, key.OrganizationId, "agent_key", key.Id,
            after: new { key.Name, key.Kind, key.Prefix, config = key.ConfigId, key.Scopes, key.AllowedOrigins, key.BudgetCredits, key.RateLimitPerMinute, expires = key.ExpiresUtc });
        await db.SaveChangesAsync(ct);
        return (new CreatedKeyResponse(key.Id, key.Name, key.Prefix, secret, key.Kind, key.ConfigId, null), null);
    }

    /// <summary>
    /// A new secret. The one it replaces keeps working for this rotation's grace, a secret already in grace keeps its own
    /// end, and at most two earlier secrets stay valid: a third rotation ends the oldest, a rotation without grace ends them
    /// all (ADR-141).
    /// </summary>
    public async Task<(CreatedKeyResponse? Created, Failure? Failure)> RegenerateAsync(Guid keyId, int? graceHours, CancellationToken ct)
    {
        var grace = TimeSpan.FromHours(graceHours ?? options.Value.RotationGraceHours);
        for (var attempt = 0; attempt < RotationAttempts; attempt++)
        {
            var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.RevokedUtc == null, ct);
            if (key is null)
            {
                return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The key was not found."));
            }
            var now = clock.GetUtcNow().UtcDateTime;
            var prefix = key.Kind == ApiKeyKind.Publishable ? ApiKeyAuthenticationHandler.PublishablePrefix : ApiKeyAuthenticationHandler.SecretPrefix;
            var secret = SecretToken.Generate(prefix);
            var hash = SecretToken.Hash(secret);
            var display = SecretToken.DisplayPrefix(secret, prefix);
            var published = key.Kind == ApiKeyKind.Publishable ? protection.CreateProtector(PublishableKeyPurpose).Protect(secret) : key.PublishableKeyProtected;
            var (graceHash, graceUntil) = grace > TimeSpan.Zero ? (key.KeyHash, (DateTime?)(now + grace)) : (null, null);
            var (olderHash, olderUntil) = grace > TimeSpan.Zero && key.GraceUntilUtc > now ? (key.GraceKeyHash, key.GraceUntilUtc) : (null, null);

            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Only on top of the secret read above: of two rotations at once one updates, the other re-reads and rotates the
            // winner's secret, so both callers' secrets are stored and no response shows a secret that was never valid.
            if (await db.ApiKeys.Where(k => k.Id == keyId && k.KeyHash == key.KeyHash && k.RevokedUtc == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(k => k.KeyHash, hash)
                    .SetProperty(k => k.Prefix, display)
                    .SetProperty(k => k.PublishableKeyProtected, published)
                    .SetProperty(k => k.GraceKeyHash, graceHash)
                    .SetProperty(k => k.GraceUntilUtc, graceUntil)
                    .SetProperty(k => k.OlderGraceKeyHash, olderHash)
                    .SetProperty(k => k.OlderGraceUntilUtc, olderUntil), ct) != 1)
            {
                continue;
            }
            audit.Record(AuditActions.AgentKeyRotated, key.OrganizationId, "agent_key", key.Id,
                before: new { prefix = key.Prefix },
                after: new { prefix = display, grace_until = graceUntil, earlier_secrets_valid = (graceHash is null ? 0 : 1) + (olderHash is null ? 0 : 1) });
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            directory.Forget();
            return (new CreatedKeyResponse(key.Id, key.Name, display, secret, key.Kind, key.ConfigId, graceUntil), null);
        }
        return (null, new Failure(StatusCodes.Status409Conflict, ProblemCodes.KeyRotationConflict,
            "The key was being rotated by other requests at the same time; nothing changed. Rotate it again."));
    }

    /// <summary>Replaces a publishable key's allowed origins; pages on an origin taken off the list lose the widget at once.</summary>
    public async Task<(KeyResponse? Updated, Failure? Failure)> UpdateAllowedOriginsAsync(Guid keyId, List<string>? allowedOrigins, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.RevokedUtc == null, ct);
        if (key is null)
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The key was not found."));
        }
        if (key.Kind != ApiKeyKind.Publishable)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Only publishable keys have allowed origins.", "allowed_origins"));
        }
        var (origins, invalid) = NormalizeOrigins(allowedOrigins);
        if (invalid is not null)
        {
            return (null, invalid);
        }
        audit.RecordChanges(AuditActions.AgentKeyUpdated, key.OrganizationId, "agent_key", key.Id,
            new { allowed_origins = key.AllowedOrigins }, new { allowed_origins = origins });
        key.AllowedOrigins = origins!;
        await db.SaveChangesAsync(ct);
        directory.Forget();
        return (await List(null, key.Id).FirstAsync(ct), null);
    }

    public async Task<bool> RevokeAsync(Guid keyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, ct);
        if (key is null)
        {
            return false;
        }
        if (key.RevokedUtc is null)
        {
            key.RevokedUtc = now;
            audit.Record(AuditActions.AgentKeyRevoked, key.OrganizationId, "agent_key", key.Id, before: new { key.Name, key.Prefix });
        }
        await db.SaveChangesAsync(ct);
        directory.Forget();
        return true;
    }

    /// <remarks><see cref="KeyResponse.EarlierSecretsUntil"/>: until when the last of the key's earlier secrets still in grace works.</remarks>
    public IQueryable<KeyResponse> List(Guid? configId, Guid? keyId = null)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return db.ApiKeys.AsNoTracking()
            .Where(k => configId == null || k.ConfigId == configId)
            .Where(k => keyId == null || k.Id == keyId)
            .OrderByDescending(k => k.CreatedUtc)
            .Select(k => new KeyResponse(k.Id, k.Name, k.Prefix, k.Kind, k.ConfigId, k.Scopes, k.AllowedOrigins, k.CreatedUtc, k.LastUsedUtc, k.ExpiresUtc,
                k.BudgetCredits, k.SpentCredits, k.RateLimitPerMinute, k.RevokedUtc != null,
                k.RevokedUtc != null ? null
                : k.OlderGraceUntilUtc > now && !(k.GraceUntilUtc > k.OlderGraceUntilUtc) ? k.OlderGraceUntilUtc
                : k.GraceUntilUtc > now ? k.GraceUntilUtc
                : null));
    }

    /// <summary>
    /// Checks and normalizes a publishable key's origins: at least one, at most <see cref="MaxAllowedOrigins"/>, each exactly
    /// an origin (see <see cref="NormalizeOrigin"/>), duplicates dropped.
    /// </summary>
    public static (List<string>? Origins, Failure? Failure) NormalizeOrigins(IReadOnlyList<string>? origins)
    {
        if (origins is null || origins.Count == 0)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "A publishable key needs at least one allowed origin.", "allowed_origins"));
        }
        if (origins.Count > MaxAllowedOrigins)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"Allow at most {MaxAllowedOrigins} origins per key.", "allowed_origins"));
        }
        var normalized = new List<string>(origins.Count);
        foreach (var origin in origins)
        {
            if (NormalizeOrigin(origin) is not { } valid)
            {
                var shown = origin is { Length: > 80 } ? origin[..80] + "…" : origin;
                return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed,
                    $"'{shown}' is not an origin like https://shop.example.com (scheme, host and port only: no path, no wildcard).", "allowed_origins"));
            }
            if (!normalized.Contains(valid, StringComparer.Ordinal))
            {
                normalized.Add(valid);
            }
        }
        return (normalized, null);
    }

    /// <summary>
    /// The origin as a browser sends it in its <c>Origin</c> header: lower-case http(s) scheme and host (international
    /// names in punycode), and the port only when it is not the scheme's default — so <c>https://Shop.Example.com:443/</c>
    /// becomes <c>https://shop.example.com</c>. Null when the text is anything more or less than an origin: a path, query,
    /// fragment, user name or wildcard is refused rather than dropped, so what the buyer sees listed is what is enforced.
    /// </summary>
    public static string? NormalizeOrigin(string? origin)
    {
        if (string.IsNullOrWhiteSpace(origin) || origin.Length > MaxOriginLength || origin.Contains('*', StringComparison.Ordinal)
            || !Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp)
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0 || uri.UserInfo.Length > 0 || uri.IdnHost.Length == 0)
        {
            return null;
        }
        // IdnHost drops an IPv6 address's brackets, which the Origin header keeps.
        var host = (uri.HostNameType == UriHostNameType.IPv6 ? uri.Host : uri.IdnHost).ToLowerInvariant();
        return uri.IsDefaultPort ? $"{uri.Scheme}://{host}" : $"{uri.Scheme}://{host}:{uri.Port}";
    }
}
