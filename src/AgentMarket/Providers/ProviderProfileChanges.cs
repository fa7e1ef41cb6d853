using System.Security.Cryptography;
using System.Text.Json;
using AgentMarket.Catalog.Images;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers;

/// <summary>
/// An edit of a provider's public profile, checked and normalized by its caller: null leaves a field as it is, and
/// <see cref="Bio"/> or <see cref="AvatarImage"/> "" removes the bio or the avatar (ADR-173). The avatar is one of the
/// organization's uploaded images, by uuid or url, checked by the edit itself (<see cref="ProviderProfileChanges.EditAsync"/>).
/// </summary>
public sealed record ProfileEdit(string? Name, string? Bio, string? AvatarImage);

/// <summary>
/// Edits of an approved provider's public profile — name, bio, avatar — wait for an operator unless
/// <c>Marketplace:AutoApproveProviders</c> is on (ADR-170): every listing and the provider's page keep showing the approved
/// profile meanwhile, and the edit is the provider's one <see cref="ProviderProfileChange"/>. Applications not yet approved
/// are edited directly: their review sees them whole.
/// </summary>
public sealed class ProviderProfileChanges(AppDbContext db, IOptionsMonitor<MarketplaceOptions> options, TimeProvider clock, Audit.AuditLog audit)
{
    const int PostgresLockSpace = 0x5050; // "PP"

    /// <summary>
    /// Applies <paramref name="edit"/> to the organization's provider, or, when it is approved and auto-approval is off,
    /// merges it into the provider's pending change (a rejected one is replaced). A change left with nothing that differs
    /// from the live profile is withdrawn. The organization's lock, held until the
    /// save commits, keeps two first edits from both inserting the change. <c>UnknownAvatar</c>: the avatar named is not (or
    /// no longer) one of the organization's images; it is checked under the image lock, so no delete removes it before the
    /// save commits.
    /// </summary>
    public async Task<(Provider? Provider, ProviderProfileChange? Change, bool UnknownAvatar)> EditAsync(Guid organizationId, ProfileEdit edit, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await CatalogImages.LockAsync(db.Database, organizationId, ct);
        await db.Database.LockOrganizationAsync(PostgresLockSpace, organizationId, ct);
        var provider = await db.Providers.FirstOrDefaultAsync(p => p.OrganizationId == organizationId, ct);
        if (provider is null)
        {
            return (null, null, false);
        }
        var avatarUrl = edit.AvatarImage;
        if (avatarUrl is { Length: > 0 })
        {
            var image = CatalogImages.IdOf(avatarUrl) is { } imageId
                ? await db.CatalogImages.AsNoTracking().Where(i => i.Id == imageId && i.OrganizationId == organizationId).Select(i => new { i.Id, i.ContentType }).FirstOrDefaultAsync(ct)
                : null;
            if (image is null)
            {
                return (provider, null, true);
            }
            avatarUrl = CatalogImages.UrlFor(image.Id, image.ContentType);
        }
        var change = await db.ProviderProfileChanges.FirstOrDefaultAsync(c => c.ProviderId == provider.Id, ct);
        var pending = change is { RejectedUtc: null } ? Fields(change) : null;
        if (options.CurrentValue.AutoApproveProviders || provider.State != ProviderState.Approved)
        {
            provider.Name = edit.Name ?? provider.Name;
            provider.Bio = edit.Bio is null ? provider.Bio : (edit.Bio.Length == 0 ? null : edit.Bio);
            provider.AvatarUrl = avatarUrl is null ? provider.AvatarUrl : (avatarUrl.Length == 0 ? null : avatarUrl);
            // The newest edit is what counts: one waiting from before auto-approval was turned on must not later put back
            // what this replaced.
            if (change is not null)
            {
                Remove(provider, change, pending);
                change = null;
            }
        }
        else
        {
            // Merged into what waits, as a listing's edits are (ADR-163): a field this edit does not set keeps its proposed
            // value, and one set back to its live value leaves the change.
            var waiting = pending is null ? null : change;
            var proposed = new ProviderProfileChange
            {
                ProviderId = provider.Id,
                Name = edit.Name is { } name ? (name != provider.Name ? name : null) : waiting?.Name,
                Bio = edit.Bio is { } bio ? (bio != (provider.Bio ?? "") ? bio : null) : waiting?.Bio,
                AvatarUrl = avatarUrl is { } avatar ? (avatar != (provider.AvatarUrl ?? "") ? avatar : null) : waiting?.AvatarUrl,
            };
            if (proposed.IsEmpty)
            {
                if (pending is not null)
                {
                    Remove(provider, change!, pending);
                    change = null;
                }
            }
            else if (pending is null || JsonSerializer.Serialize(pending) != JsonSerializer.Serialize(Fields(proposed)))
            {
                if (change is null)
                {
                    change = new ProviderProfileChange { ProviderId = provider.Id };
                    db.ProviderProfileChanges.Add(change);
                }
                (change.Name, change.Bio, change.AvatarUrl) = (proposed.Name, proposed.Bio, proposed.AvatarUrl);
                // Part of the revision an operator's decision names: as the database keeps it, so a read-back compares equal.
                change.SubmittedUtc = Timestamps.WholeMicroseconds(clock.GetUtcNow().UtcDateTime);
                change.RejectedUtc = null;
                change.RejectionNote = null;
                audit.Record(Audit.AuditActions.ProviderProfileChangeSubmitted, provider.OrganizationId, "provider", provider.Id, before: pending, after: Fields(change));
            }
            // else: the same proposal again keeps its place in the queue and its revision.
        }
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        return (provider, change, false);
    }

    /// <summary>Withdraws the organization's pending profile edit; false when it has none waiting.</summary>
    public async Task<bool> WithdrawAsync(Guid organizationId, CancellationToken ct)
    {
        var found = await db.Providers.Where(p => p.OrganizationId == organizationId)
            .Join(db.ProviderProfileChanges.Where(c => c.RejectedUtc == null), p => p.Id, c => c.ProviderId, (p, c) => new { Provider = p, Change = c })
            .FirstOrDefaultAsync(ct);
        if (found is null)
        {
            return false;
        }
        Remove(found.Provider, found.Change, Fields(found.Change));
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>The organization's profile edit, waiting or rejected; null when there is none.</summary>
    public Task<ProviderProfileChange?> OfAsync(Guid providerId, CancellationToken ct) =>
        db.ProviderProfileChanges.AsNoTracking().FirstOrDefaultAsync(c => c.ProviderId == providerId, ct);

    void Remove(Provider provider, ProviderProfileChange change, Dictionary<string, object>? pending)
    {
        db.ProviderProfileChanges.Remove(change);
        if (pending is not null)
        {
            audit.Record(Audit.AuditActions.ProviderProfileChangeWithdrawn, provider.OrganizationId, "provider", provider.Id, before: pending);
        }
    }

    /// <summary>
    /// A fingerprint of what an operator reviews: the live profile and the proposed edit, with when it was submitted. A
    /// decision naming another revision is refused: the provider edited or withdrew it since (ADR-170).
    /// </summary>
    public static string Revision(Provider provider, ProviderProfileChange change) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(new object?[]
        {
            provider.Name, provider.Bio, provider.AvatarUrl, change.Name, change.Bio, change.AvatarUrl, change.SubmittedUtc,
        })))[..32];

    /// <summary>The fields a change sets, by their API names, for the audit log.</summary>
    public static Dictionary<string, object> Fields(ProviderProfileChange change)
    {
        var fields = new Dictionary<string, object>(StringComparer.Ordinal);
        if (change.Name is not null)
        {
            fields["name"] = change.Name;
        }
        if (change.Bio is not null)
        {
            fields["bio"] = change.Bio;
        }
        if (change.AvatarUrl is not null)
        {
            fields["avatar_url"] = change.AvatarUrl;
        }
        return fields;
    }

    /// <summary>Applies an approved change to the (tracked) provider.</summary>
    public static void ApplyTo(ProviderProfileChange change, Provider provider)
    {
        provider.Name = change.Name ?? provider.Name;
        provider.Bio = change.Bio is null ? provider.Bio : (change.Bio.Length == 0 ? null : change.Bio);
        provider.AvatarUrl = change.AvatarUrl is null ? provider.AvatarUrl : (change.AvatarUrl.Length == 0 ? null : change.AvatarUrl);
    }
}
