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
    public async Task<Guid> EffectiveAsync(CustomerAgentConfig config, CancellationToken ct)
    {
        var releases = db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId);
        var pinned = await releases.FirstOrDefaultAsync(r => r.AgentVersionId == config.AgentVersionId, ct);
        if (pinned is null)
        {
            return config.AgentVersionId;
        }
        var patch = await releases
            .Where(r => r.Major == pinned.Major && r.Minor == pinned.Minor && r.Patch > pinned.Patch)
            .OrderByDescending(r => r.Patch)
            .Select(r => (Guid?)r.AgentVersionId)
            .FirstOrDefaultAsync(ct);
        return patch ?? config.AgentVersionId;
    }

    public async Task<VersionState> StateAsync(CustomerAgentConfig config, CancellationToken ct)
    {
        var releases = await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId).ToListAsync(ct);
        var pinned = releases.FirstOrDefault(r => r.AgentVersionId == config.AgentVersionId);
        var effectiveId = await EffectiveAsync(config, ct);
        var effective = releases.FirstOrDefault(r => r.AgentVersionId == effectiveId);
        var latest = releases.FirstOrDefault(r => r.AgentVersionId == config.Listing?.AgentVersionId);
        return new VersionState(pinned?.Version ?? "", effective?.Version ?? pinned?.Version ?? "", latest?.Version ?? "",
            latest is not null && effective is not null && latest.AgentVersionId != effective.AgentVersionId);
    }
}
