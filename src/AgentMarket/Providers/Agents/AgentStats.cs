using System.Text.Json.Serialization;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Providers.Agents;

public sealed record DailyRuns(DateOnly Day, int CompletedRuns, int FailedRuns, int Customers);

/// <summary>
/// The listing's counters (all time), and its <see cref="AgentStats.Days"/> days: per day, and how many runs of those days
/// had their tokens held to what the text can hold (<see cref="RunsBounded"/>) or estimated because the model endpoint
/// reported none (<see cref="RunsEstimated"/>, ADR-172), free tries and failed runs included.
/// </summary>
public sealed record AgentStatsResponse(
    long Runs, long FailedRuns, double? SuccessRate, [property: JsonPropertyName("users_30d")] int Users30d, double? Rating, int ReviewsCount,
    long RunsBounded, long RunsEstimated, IReadOnlyList<DailyRuns> Daily);

/// <summary>A provider's numbers for one agent (SPEC §5 seller dashboard): the listing's stored counters and daily rows.</summary>
public sealed class AgentStats(AppDbContext db, Gateway.RunProjector projector, TimeProvider clock)
{
    public const int Days = 30;

    /// <summary>Null when the agent is not this organization's; zeros (and empty days) before it is published.</summary>
    public async Task<AgentStatsResponse?> ForAgentAsync(Guid agentId, CancellationToken ct)
    {
        await projector.CaughtUpAsync(ct);
        if (!await db.ProviderAgents.AnyAsync(a => a.Id == agentId, ct))
        {
            return null;
        }
        var listing = await db.Listings.AsNoTracking().Where(l => l.AgentId == agentId)
            .Select(l => new { l.Id, l.ProviderId, l.RunsCount, l.FailedRunsCount, l.Users30d, l.ReviewsCount, l.RatingTotal }).FirstOrDefaultAsync(ct);
        var today = DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);
        var first = today.AddDays(1 - Days);
        var rows = listing is null
            ? []
            : await db.ListingDailyStats.AsNoTracking().Where(s => s.ListingId == listing.Id && s.Day >= first).ToListAsync(ct);
        // Every day of the window, with zeros where nothing ran, so charts need no gap handling.
        var daily = Enumerable.Range(0, Days).Select(i => first.AddDays(i))
            .Select(day => rows.Find(r => r.Day == day) is { } row ? new DailyRuns(day, row.CompletedRuns, row.FailedRuns, row.Customers) : new DailyRuns(day, 0, 0, 0))
            .ToList();
        if (listing is null)
        {
            return new AgentStatsResponse(0, 0, null, 0, null, 0, 0, 0, daily);
        }
        // From the provider's rollup (its key leads with provider and day), not the runs: those are the buyers' records.
        var sources = await db.EconomicsListingDays.AsNoTracking().Where(d => d.ProviderId == listing.ProviderId && d.Day >= first && d.ListingId == listing.Id)
            .GroupBy(d => d.ListingId)
            .Select(g => new { Bounded = g.Sum(d => d.RunsBounded), Estimated = g.Sum(d => d.RunsEstimated) })
            .FirstOrDefaultAsync(ct);
        var finished = listing.RunsCount + listing.FailedRunsCount;
        return new AgentStatsResponse(
            listing.RunsCount, listing.FailedRunsCount,
            finished == 0 ? null : Math.Round((double)listing.RunsCount / finished, 3),
            listing.Users30d,
            // Rounded as the card and the min_rating filter round it (half up), so the seller sees the rating buyers see.
            listing.ReviewsCount == 0 ? null : Catalog.CardRow.RatingTenths(listing.RatingTotal, listing.ReviewsCount) / 10.0,
            listing.ReviewsCount, sources?.Bounded ?? 0, sources?.Estimated ?? 0, daily);
    }
}
