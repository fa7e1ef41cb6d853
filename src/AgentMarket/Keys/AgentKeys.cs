using AgentMarket.Audit;
using AgentMarket.Platform.Auth;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Subscriptions;
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
public sealed record CreatedKeyResponse(Guid Uuid, string Name, string Prefix, string Key, ApiKeyKind Kind, Guid Config, DateTime? GraceUntil);
public sealed record KeyResponse(Guid Uuid, string Name, string Prefix, ApiKeyKind Kind, Guid Config, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedOrigins,
    DateTime Created, DateTime? LastUsed, DateTime? Expires, long? BudgetCredits, long Spent, int? RateLimitPerMinute, bool Revoked);

/// <summary>Creating, rotating and revoking agent keys; the API and the keys page share it.</summary>
public sealed class AgentKeys(AppDbContext db, CurrentTenant tenant, ApiKeyDirectory directory, IOptions<KeysOptions> options, TimeProvider clock, AuditLog audit)
{
    public static readonly string[] KnownScopes = ["run", "read"];

    public sealed record Failure(int Status, string Code, string Message, string? Field = null);

    public async Task<(CreatedKeyResponse? Created, Failure? Failure)> CreateAsync(CreateKeyRequest request, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (request.Config is not { } configId)
        {
            return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "Name the subscription the key is for.", "config"));
        }
        if (!await db.CustomerAgentConfigs.AnyAsync(c => c.Id == configId && c.State != SubscriptionState.Terminated, ct))
        {
            return (null, new Failure(StatusCodes.Status404NotFound, ProblemCodes.NotFound, "The agent was not found."));
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
        var origins = request.AllowedOrigins ?? [];
        if (request.Kind == ApiKeyKind.Publishable)
        {
            if (origins.Count == 0)
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, "A publishable key needs at least one allowed origin.", "allowed_origins"));
            }
            if (origins.FirstOrDefault(o => NormalizeOrigin(o) is null) is { } bad)
            {
                return (null, new Failure(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, $"'{bad}' is not an origin like https://shop.example.com.", "allowed_origins"));
            }
            origins = origins.Select(o => NormalizeOrigin(o)!).Distinct().ToList();
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

    /// <summary>A new secret; the previous one keeps working for the grace period, then stops.</summary>
    public async Task<CreatedKeyResponse?> RegenerateAsync(Guid keyId, int? graceHours, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.RevokedUtc == null, ct);
        if (key is null)
        {
            return null;
        }
        var prefix = key.Kind == ApiKeyKind.Publishable ? ApiKeyAuthenticationHandler.PublishablePrefix : ApiKeyAuthenticationHandler.SecretPrefix;
        var secret = SecretToken.Generate(prefix);
        var grace = TimeSpan.FromHours(graceHours ?? options.Value.RotationGraceHours);
        key.GraceKeyHash = grace > TimeSpan.Zero ? key.KeyHash : null;
        key.GraceUntilUtc = grace > TimeSpan.Zero ? clock.GetUtcNow().UtcDateTime + grace : null;
        key.KeyHash = SecretToken.Hash(secret);
        var previousPrefix = key.Prefix;
        key.Prefix = SecretToken.DisplayPrefix(secret, prefix);
        audit.Record(AuditActions.AgentKeyRotated, key.OrganizationId, "agent_key", key.Id,
            before: new { prefix = previousPrefix }, after: new { key.Prefix, grace_until = key.GraceUntilUtc });
        await db.SaveChangesAsync(ct);
        directory.Forget();
        return new CreatedKeyResponse(key.Id, key.Name, key.Prefix, secret, key.Kind, key.ConfigId, key.GraceUntilUtc);
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

    public IQueryable<KeyResponse> List(Guid? configId, Guid? keyId = null) =>
        db.ApiKeys.AsNoTracking()
            .Where(k => configId == null || k.ConfigId == configId)
            .Where(k => keyId == null || k.Id == keyId)
            .OrderByDescending(k => k.CreatedUtc)
            .Select(k => new KeyResponse(k.Id, k.Name, k.Prefix, k.Kind, k.ConfigId, k.Scopes, k.AllowedOrigins, k.CreatedUtc, k.LastUsedUtc, k.ExpiresUtc,
                k.BudgetCredits, k.SpentCredits, k.RateLimitPerMinute, k.RevokedUtc != null));

    /// <summary><c>https://shop.example.com</c> (scheme, host, port), or null when the text is not an http(s) origin.</summary>
    public static string? NormalizeOrigin(string? origin) =>
        Uri.TryCreate(origin?.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            && uri.AbsolutePath == "/" && string.IsNullOrEmpty(uri.Query)
            ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant()
            : null;
}
