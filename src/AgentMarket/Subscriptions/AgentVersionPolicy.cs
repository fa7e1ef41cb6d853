using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Subscriptions;

/// <summary>
/// Which version a subscription runs (SPEC §5): the pinned one, or a later patch release of the same major.minor, which
/// applies without asking; a new minor or major version is offered and runs only after the buyer upgrades. Reads only
/// the listing's public releases, never the provider's versions.
/// </summary>
public sealed class AgentVersionPolicy(AppDbContext db)
{
    /// <summary>The version to run, from the listing's releases (for callers that hold them already).</summary>
    public static Guid Effective(CustomerAgentConfig config, IReadOnlyList<Catalog.ListingRelease> releases)
    {
        var pinned = releases.FirstOrDefault(r => r.AgentVersionId == config.AgentVersionId);
        if (pinned is null)
        {
            return config.AgentVersionId;
        }
        var patch = releases.Where(r => r.Major == pinned.Major && r.Minor == pinned.Minor && r.Patch > pinned.Patch).MaxBy(r => r.Patch);
        return patch?.AgentVersionId ?? config.AgentVersionId;
    }

    /// <summary>The version a subscription runs now, reading the listing's releases.</summary>
    public async Task<Guid> EffectiveAsync(CustomerAgentConfig config, CancellationToken ct) =>
        Effective(config, await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId).ToListAsync(ct));

    public async Task<VersionState> StateAsync(CustomerAgentConfig config, CancellationToken ct)
    {
        var releases = await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId).ToListAsync(ct);
        var pinned = releases.FirstOrDefault(r => r.AgentVersionId == config.AgentVersionId);
        var effectiveId = Effective(config, releases);
        var effective = releases.FirstOrDefault(r => r.AgentVersionId == effectiveId);
        var latest = releases.FirstOrDefault(r => r.AgentVersionId == config.Listing?.AgentVersionId);
        return new VersionState(pinned?.Version ?? "", effective?.Version ?? pinned?.Version ?? "", latest?.Version ?? "",
            latest is not null && effective is not null && latest.AgentVersionId != effective.AgentVersionId);
    }
}
