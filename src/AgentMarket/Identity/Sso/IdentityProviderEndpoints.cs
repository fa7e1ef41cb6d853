using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using AgentMarket.Audit;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Errors;
using AgentMarket.Platform.Tenancy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Identity.Sso;

public sealed record DomainMappingRequest([property: Required, MaxLength(253)] string Domain, Guid Organization);

/// <summary>Create or replace an identity provider. <c>client_secret</c> is required on create; omitted on update, it is kept.</summary>
public sealed record IdentityProviderRequest(
    [property: Required, MinLength(1), MaxLength(100)] string Name,
    [property: Required, MaxLength(500)] string Issuer,
    [property: Required, MinLength(1), MaxLength(200)] string ClientId,
    [property: MaxLength(1000)] string? ClientSecret,
    [property: MaxLength(20)] IReadOnlyList<string>? Scopes,
    [property: MaxLength(50)] IReadOnlyList<string>? AllowedEmailDomains,
    MembershipRole? DefaultRole,
    [property: MaxLength(100)] IReadOnlyList<DomainMappingRequest>? OrganizationMappings,
    bool? Enabled);

public sealed record DomainMappingResponse(string Domain, Guid Organization, string OrganizationName);

/// <summary>An identity provider as operators see it: never the client secret, only whether one is set.</summary>
public sealed record IdentityProviderResponse(
    Guid Uuid, string Name, string Issuer, string ClientId, bool HasClientSecret, IReadOnlyList<string> Scopes,
    IReadOnlyList<string> AllowedEmailDomains, MembershipRole DefaultRole, IReadOnlyList<DomainMappingResponse> OrganizationMappings,
    bool Enabled, string RedirectUri, string SignInUrl, DateTime Created, DateTime Updated);

/// <summary><c>/api/admin/identity-providers/</c>: operators configure single sign-on (everyone else gets 404).</summary>
static partial class IdentityProviderEndpoints
{
    static readonly string[] DefaultScopes = ["openid", "email", "profile"];

    const string TargetType = "identity_provider";

    // How the audit log shows the client secret: never its value, only whether an edit replaced it.
    const string SecretSet = "set";
    const string SecretReplaced = "replaced";

    public static void MapIdentityProviders(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/admin/identity-providers").WithTags("Admin");
        group.MapGet("/", ListAsync).WithName("AdminListIdentityProviders").RequireOperator();
        group.MapPost("/", CreateAsync).WithName("AdminCreateIdentityProvider").RequireOperator();
        group.MapGet("/{uuid:guid}", GetAsync).WithName("AdminGetIdentityProvider").RequireOperator();
        group.MapPut("/{uuid:guid}", UpdateAsync).WithName("AdminUpdateIdentityProvider").RequireOperator();
        group.MapDelete("/{uuid:guid}", DeleteAsync).WithName("AdminDeleteIdentityProvider").RequireOperator();
    }

    static async Task<IResult> ListAsync(AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var providers = await db.IdentityProviders.AsNoTracking().OrderBy(p => p.Name).ThenBy(p => p.Id).ToListAsync(ct);
        var mappings = await MappingsAsync(db, providers.Select(p => p.Id).ToList(), ct);
        return TypedResults.Ok(providers.ConvertAll(p => ToResponse(p, mappings, http)));
    }

    static async Task<IResult> GetAsync(Guid uuid, AppDbContext db, HttpContext http, CancellationToken ct)
    {
        var provider = await db.IdentityProviders.AsNoTracking().FirstOrDefaultAsync(p => p.Id == uuid, ct);
        return provider is null ? ApiProblem.NotFound("identity provider") : TypedResults.Ok(ToResponse(provider, await MappingsAsync(db, [uuid], ct), http));
    }

    static async Task<IResult> CreateAsync(IdentityProviderRequest request, AppDbContext db, ClientSecrets secrets, IOptions<SsoOptions> options,
        TimeProvider clock, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.ClientSecret))
        {
            return ApiProblem.Invalid("client_secret", "Enter the client secret the identity provider issued for this marketplace.");
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var provider = new IdentityProvider
        {
            Name = "",
            Issuer = "",
            ClientId = "",
            ClientSecretProtected = "",
            Scopes = "",
            CreatedUtc = now,
        };
        if (await ApplyAsync(provider, request, db, secrets, options.Value, now, ct) is { } invalid)
        {
            return invalid;
        }
        db.IdentityProviders.Add(provider);
        audit.Record(AuditActions.IdentityProviderCreated, null, TargetType, provider.Id, after: Audited(provider, NewMappings(db, provider.Id), SecretSet));
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/admin/identity-providers/{provider.Id}", ToResponse(provider, await MappingsAsync(db, [provider.Id], ct), http));
    }

    static async Task<IResult> UpdateAsync(Guid uuid, IdentityProviderRequest request, AppDbContext db, ClientSecrets secrets, IOptions<SsoOptions> options,
        TimeProvider clock, AuditLog audit, HttpContext http, CancellationToken ct)
    {
        var provider = await db.IdentityProviders.FirstOrDefaultAsync(p => p.Id == uuid, ct);
        if (provider is null)
        {
            return ApiProblem.NotFound("identity provider");
        }
        var before = Audited(provider, await StoredMappingsAsync(db, uuid, ct), SecretSet);
        var previousSecret = provider.ClientSecretProtected;
        if (await ApplyAsync(provider, request, db, secrets, options.Value, clock.GetUtcNow().UtcDateTime, ct) is { } invalid)
        {
            return invalid;
        }
        var secret = provider.ClientSecretProtected == previousSecret ? SecretSet : SecretReplaced;
        audit.RecordChanges(AuditActions.IdentityProviderUpdated, null, TargetType, uuid, before, Audited(provider, NewMappings(db, uuid), secret));
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToResponse(provider, await MappingsAsync(db, [uuid], ct), http));
    }

    static async Task<IResult> DeleteAsync(Guid uuid, AppDbContext db, AuditLog audit, CancellationToken ct)
    {
        var provider = await db.IdentityProviders.FirstOrDefaultAsync(p => p.Id == uuid, ct);
        if (provider is null)
        {
            return ApiProblem.NotFound("identity provider");
        }
        // Linked logins and domain mappings go with it (the database cascades); the users stay, with their organizations.
        db.IdentityProviders.Remove(provider);
        audit.Record(AuditActions.IdentityProviderDeleted, null, TargetType, uuid, before: Audited(provider, await StoredMappingsAsync(db, uuid, ct), SecretSet));
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return ApiProblem.NotFound("identity provider"); // another operator deleted it first, and that deletion is audited
        }
        return TypedResults.NoContent();
    }

    /// <summary>What the audit log records of a provider: everything but the client secret, which shows only as set or replaced.</summary>
    static object Audited(IdentityProvider p, IEnumerable<(string Domain, Guid Organization)> mappings, string clientSecret) => new
    {
        p.Name,
        p.Issuer,
        p.ClientId,
        client_secret = clientSecret,
        scopes = p.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries),
        allowed_email_domains = p.AllowedDomains().ToList(),
        p.DefaultRole,
        p.Enabled,
        organization_mappings = mappings.OrderBy(m => m.Domain, StringComparer.Ordinal).Select(m => new { domain = m.Domain, organization = m.Organization }).ToList(),
    };

    static async Task<List<(string Domain, Guid Organization)>> StoredMappingsAsync(AppDbContext db, Guid providerId, CancellationToken ct) =>
        (await db.IdentityProviderDomains.AsNoTracking().Where(d => d.ProviderId == providerId).Select(d => new { d.Domain, d.OrganizationId }).ToListAsync(ct))
            .ConvertAll(d => (d.Domain, d.OrganizationId));

    /// <summary>The mappings <see cref="ApplyAsync"/> left in the context for the save (<c>Local</c> leaves out the ones it removed).</summary>
    static IEnumerable<(string Domain, Guid Organization)> NewMappings(AppDbContext db, Guid providerId) =>
        db.IdentityProviderDomains.Local.Where(d => d.ProviderId == providerId).Select(d => (d.Domain, d.OrganizationId));

    /// <summary>Validates the request and copies it onto <paramref name="provider"/> (replacing its domain mappings); a problem when invalid.</summary>
    static async Task<IResult?> ApplyAsync(IdentityProvider provider, IdentityProviderRequest request, AppDbContext db, ClientSecrets secrets,
        SsoOptions options, DateTime now, CancellationToken ct)
    {
        var issuer = request.Issuer.Trim();
        if (!Uri.TryCreate(issuer, UriKind.Absolute, out var issuerUri) || issuerUri.Query.Length > 0 || issuerUri.Fragment.Length > 0
            || !(issuerUri.Scheme == Uri.UriSchemeHttps || (issuerUri.Scheme == Uri.UriSchemeHttp && !options.RequireHttps)))
        {
            return ApiProblem.Invalid("issuer", "Enter the issuer URL exactly as the provider states it, https and without query (Keycloak: https://host/realms/NAME).");
        }
        var scopes = (request.Scopes is { Count: > 0 } requested ? requested.Select(s => s.Trim()) : DefaultScopes).ToList();
        if (scopes.Any(s => !ScopeToken().IsMatch(s)))
        {
            return ApiProblem.Invalid("scopes", "Scopes are single words such as openid, email, profile.");
        }
        if (!scopes.Contains("openid"))
        {
            scopes.Insert(0, "openid");  // without it there is no id_token, and so no sign-in
        }
        var allowed = (request.AllowedEmailDomains ?? []).Select(d => d.Trim().ToLowerInvariant()).Distinct().ToList();
        if (allowed.Any(d => !DomainName().IsMatch(d)))
        {
            return ApiProblem.Invalid("allowed_email_domains", "Use domain names such as example.com.");
        }
        var role = request.DefaultRole ?? MembershipRole.Member;
        if (role == MembershipRole.Owner)
        {
            return ApiProblem.Invalid("default_role", "Use member or manager: owners are appointed by other owners.");
        }
        var mappings = (request.OrganizationMappings ?? []).Select(m => (Domain: m.Domain.Trim().ToLowerInvariant(), m.Organization)).ToList();
        if (mappings.Any(m => !DomainName().IsMatch(m.Domain)) || mappings.Select(m => m.Domain).Distinct().Count() != mappings.Count)
        {
            return ApiProblem.Invalid("organization_mappings", "Map each email domain (such as example.com) once.");
        }
        if (allowed.Count > 0 && mappings.Any(m => !allowed.Contains(m.Domain)))
        {
            return ApiProblem.Invalid("organization_mappings", "A mapped domain must also be one of the allowed email domains.");
        }
        var organizationIds = mappings.Select(m => m.Organization).Distinct().ToList();
        if (await db.Organizations.CountAsync(o => organizationIds.Contains(o.Id), ct) != organizationIds.Count)
        {
            return ApiProblem.Invalid("organization_mappings", "Every mapped organization must exist.");
        }

        provider.Name = request.Name.Trim();
        provider.Issuer = issuer;
        provider.ClientId = request.ClientId.Trim();
        if (!string.IsNullOrEmpty(request.ClientSecret) && !IsStoredSecret(provider, request.ClientSecret, secrets))
        {
            provider.ClientSecretProtected = secrets.Protect(request.ClientSecret);
        }
        provider.Scopes = string.Join(' ', scopes.Distinct());
        provider.AllowedEmailDomains = string.Join(' ', allowed);
        provider.DefaultRole = role;
        provider.Enabled = request.Enabled ?? true;
        provider.UpdatedUtc = now;
        // Replaced in the caller's one SaveChanges (EF deletes before it re-inserts a domain under the unique index).
        db.IdentityProviderDomains.RemoveRange(await db.IdentityProviderDomains.Where(d => d.ProviderId == provider.Id).ToListAsync(ct));
        db.IdentityProviderDomains.AddRange(mappings.Select(m => new IdentityProviderDomain { ProviderId = provider.Id, Domain = m.Domain, OrganizationId = m.Organization }));
        return null;
    }

    /// <summary>
    /// Whether <paramref name="secret"/> is the one already stored: sent again unchanged (a client that PUTs the whole
    /// configuration), it is kept rather than re-encrypted, so the audit log does not report it replaced.
    /// </summary>
    static bool IsStoredSecret(IdentityProvider provider, string secret, ClientSecrets secrets)
    {
        if (provider.ClientSecretProtected.Length == 0)
        {
            return false;
        }
        try
        {
            return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(secrets.Unprotect(provider.ClientSecretProtected)), Encoding.UTF8.GetBytes(secret));
        }
        catch (CryptographicException)
        {
            return false; // unreadable (its Data Protection key is gone): the new one replaces it
        }
    }

    static async Task<ILookup<Guid, DomainMappingResponse>> MappingsAsync(AppDbContext db, List<Guid> providerIds, CancellationToken ct)
    {
        var rows = await db.IdentityProviderDomains.AsNoTracking()
            .Where(d => providerIds.Contains(d.ProviderId))
            .Join(db.Organizations, d => d.OrganizationId, o => o.Id, (d, o) => new { d.ProviderId, d.Domain, d.OrganizationId, o.Name })
            .OrderBy(r => r.Domain)
            .ToListAsync(ct);
        return rows.ToLookup(r => r.ProviderId, r => new DomainMappingResponse(r.Domain, r.OrganizationId, r.Name));
    }

    static IdentityProviderResponse ToResponse(IdentityProvider p, ILookup<Guid, DomainMappingResponse> mappings, HttpContext http)
    {
        var baseUrl = InvitationEndpoints.PublicBaseUrl(http);
        return new IdentityProviderResponse(p.Id, p.Name, p.Issuer, p.ClientId, p.ClientSecretProtected.Length > 0,
            p.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), [.. p.AllowedDomains()], p.DefaultRole, [.. mappings[p.Id]],
            p.Enabled, baseUrl + SsoModule.CallbackPath, $"{baseUrl}/signin/sso/{p.Id}", p.CreatedUtc, p.UpdatedUtc);
    }

    // RFC 6749 §3.3 scope-token.
    [GeneratedRegex(@"^[\x21\x23-\x5B\x5D-\x7E]{1,100}$")]
    private static partial Regex ScopeToken();

    [GeneratedRegex(@"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DomainName();
}
