using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Subscriptions;

/// <summary>
/// Which version a subscription runs (SPEC §5): the pinned one, or a later patch release of the same major.minor, which
/// applies without asking; a new minor or major version is offered and runs only after the buyer upgrades. A rollback
/// withdraws every release newer than the one the listing now serves: a subscription pinned to one runs the served
/// version, and no patch newer than it applies. Reads only the listing's public releases, never the provider's versions.
/// </summary>
public sealed class AgentVersionPolicy(AppDbContext db)
{
    /// <summary>The version to run, from the listing's releases and served version (for callers that hold them already).</summary>
    public static Guid Effective(CustomerAgentConfig config, IReadOnlyList<Catalog.ListingRelease> releases, Guid? servedVersionId)
    {
        var pinned = releases.FirstOrDefault(r => r.AgentVersionId == config.AgentVersionId);
        if (pinned is null)
        {
            return config.AgentVersionId;
        }
        var served = servedVersionId is { } id ? releases.FirstOrDefault(r => r.AgentVersionId == id) : null;
        if (served is not null && Newer(pinned, served))
        {
            return served.AgentVersionId;
        }
        var patch = releases
            .Where(r => r.Major == pinned.Major && r.Minor == pinned.Minor && r.Patch > pinned.Patch && (served is null || !Newer(r, served)))
            .MaxBy(r => r.Patch);
        return patch?.AgentVersionId ?? config.AgentVersionId;
    }

    static bool Newer(Catalog.ListingRelease release, Catalog.ListingRelease than) =>
        (release.Major, release.Minor, release.Patch).CompareTo((than.Major, than.Minor, than.Patch)) > 0;

    /// <summary>The version a subscription runs now, reading the listing's releases and served version.</summary>
    public async Task<Guid> EffectiveAsync(CustomerAgentConfig config, CancellationToken ct) =>
        Effective(config, await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId).ToListAsync(ct),
            await db.Listings.AsNoTracking().Where(l => l.Id == config.ListingId).Select(l => l.AgentVersionId).FirstOrDefaultAsync(ct));

    public async Task<VersionState> StateAsync(CustomerAgentConfig config, CancellationToken ct)
    {
        var releases = await db.ListingReleases.AsNoTracking().Where(r => r.ListingId == config.ListingId).ToListAsync(ct);
        var pinned = releases.FirstOrDefault(r => r.AgentVersionId == config.AgentVersionId);
        var servedId = config.Listing?.AgentVersionId ?? await db.Listings.AsNoTracking().Where(l => l.Id == config.ListingId).Select(l => l.AgentVersionId).FirstOrDefaultAsync(ct);
        var effectiveId = Effective(config, releases, servedId);
        var effective = releases.FirstOrDefault(r => r.AgentVersionId == effectiveId);
        var latest = releases.FirstOrDefault(r => r.AgentVersionId == servedId);
        return new VersionState(pinned?.Version ?? "", effective?.Version ?? pinned?.Version ?? "", latest?.Version ?? "",
            latest is not null && effective is not null && Newer(latest, effective));
    }
}
