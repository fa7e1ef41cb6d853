using System.Collections.Concurrent;
using AgentMarket.Catalog.Reviews;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Catalog.SocialProof;

/// <summary>A run that has finished, as the gateway reports it.</summary>
public sealed record FinishedRun(Guid ListingId, Guid OrganizationId, Guid? AgentVersionId, RunOutcome Outcome, DateTime StartedUtc, DateTime FinishedUtc);

/// <summary>
/// The facts behind social proof (SPEC §2): records finished runs and keeps each listing's stored counters — runs,
/// failed runs, users in the last 30 days — and its daily statistics current as runs finish, so no page view
/// aggregates run records. <see cref="RepairAsync"/> recomputes everything from the records, correcting drift (two
/// concurrent first runs of one organization, a crash between steps) and letting <c>users_30d</c> forget old users.
/// </summary>
public sealed class RunFacts(AppDbContext db, RecordedRuns recorded, TimeProvider clock)
{
    public static readonly TimeSpan UsersWindow = TimeSpan.FromDays(30);

    static readonly CounterTable DailyStats = new("listing_daily_stats", ["listing_id", "day"], ["completed_runs", "failed_runs", "customers"]);

    /// <summary>Stores the run and updates the counters, in one transaction.</summary>
    public Task RecordAsync(FinishedRun run, CancellationToken ct) => RecordManyAsync([run], ct);

    /// <summary>
    /// Stores the runs and updates the counters, in the caller's transaction if there is one, else in one of its own.
    /// Runs of one batch count together: an organization's two first runs of a day make it one customer of the day.
    /// Returns the runs recorded, which leave out a provider's own.
    /// </summary>
    public async Task<IReadOnlyList<FinishedRun>> RecordManyAsync(IReadOnlyList<FinishedRun> runs, CancellationToken ct)
    {
        runs = await WithoutOwnRunsAsync(runs, ct);
        if (runs.Count == 0)
        {
            return runs;
        }
        var owned = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        var seenToday = new HashSet<(Guid Organization, Guid Listing, DateOnly Day)>();
        var seenRecent = new HashSet<(Guid Organization, Guid Listing)>();
        var counters = new Dictionary<Guid, (int Completed, int Failed, int Users)>();
        var daily = new Dictionary<(Guid Listing, DateOnly Day), (int Completed, int Failed, int Customers)>();
        var records = new List<RunRecord>(runs.Count);
        foreach (var run in runs)
        {
            var day = DateOnly.FromDateTime(run.FinishedUtc);
            var windowStart = run.FinishedUtc - UsersWindow;
            var completed = run.Outcome == RunOutcome.Completed;
            var history = db.RunRecords.Where(r => r.OrganizationId == run.OrganizationId && r.ListingId == run.ListingId);
            var firstRunToday = seenToday.Add((run.OrganizationId, run.ListingId, day))
                && !recorded.RanOn(run.OrganizationId, run.ListingId, day) && !await history.AnyAsync(r => r.Day == day, ct);
            var newRecentUser = completed && seenRecent.Add((run.OrganizationId, run.ListingId))
                && !recorded.CompletedAfter(run.OrganizationId, run.ListingId, windowStart)
                && !await history.AnyAsync(r => r.Outcome == RunOutcome.Completed && r.FinishedUtc > windowStart, ct);
            records.Add(new RunRecord
            {
                OrganizationId = run.OrganizationId,
                ListingId = run.ListingId,
                AgentVersionId = run.AgentVersionId,
                Outcome = run.Outcome,
                StartedUtc = run.StartedUtc,
                FinishedUtc = run.FinishedUtc,
                Day = day,
            });
            var c = counters.GetValueOrDefault(run.ListingId);
            counters[run.ListingId] = (c.Completed + (completed ? 1 : 0), c.Failed + (completed ? 0 : 1), c.Users + (newRecentUser ? 1 : 0));
            var d = daily.GetValueOrDefault((run.ListingId, day));
            daily[(run.ListingId, day)] = (d.Completed + (completed ? 1 : 0), d.Failed + (completed ? 0 : 1), d.Customers + (firstRunToday ? 1 : 0));
        }
        await db.InsertRowsAsync(records, ct);
        foreach (var (listing, (completedRuns, failedRuns, users)) in counters)
        {
            await db.Listings.Where(l => l.Id == listing).ExecuteUpdateAsync(s => s
                .SetProperty(l => l.RunsCount, l => l.RunsCount + completedRuns)
                .SetProperty(l => l.FailedRunsCount, l => l.FailedRunsCount + failedRuns)
                .SetProperty(l => l.Users30d, l => l.Users30d + users), ct);
        }
        await db.AddToCountersAsync(DailyStats,
            daily.Select(d => (object[])[d.Key.Listing, d.Key.Day, d.Value.Completed, d.Value.Failed, d.Value.Customers]).ToList(), ct);
        if (owned is not null)
        {
            await owned.CommitAsync(ct);
            await owned.DisposeAsync();
            recorded.Remember(runs);
        }
        return runs;
    }

    /// <summary>
    /// The runs of buyers: a provider's runs of its own listing (testing it, or inflating its figures) are not social
    /// proof, and are not recorded, so the repair, the seller's statistics and the review check never count them either.
    /// </summary>
    async Task<IReadOnlyList<FinishedRun>> WithoutOwnRunsAsync(IReadOnlyList<FinishedRun> runs, CancellationToken ct)
    {
        var listingIds = runs.Select(r => r.ListingId).Distinct().ToList();
        var owners = await db.Listings.AsNoTracking().Where(l => listingIds.Contains(l.Id))
            .ToDictionaryAsync(l => l.Id, l => l.OrganizationId, ct);
        return runs.Where(r => !owners.TryGetValue(r.ListingId, out var owner) || owner != r.OrganizationId).ToList();
    }

    /// <summary>
    /// Recomputes every listing's run and review counters and the last 30 days of daily statistics from the records.
    /// Idempotent; runs in a system scope (the records of every buyer organization count).
    /// </summary>
    public async Task RepairAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var windowStart = now - UsersWindow;
        await db.Listings.ExecuteUpdateAsync(s => s
            .SetProperty(l => l.RunsCount, l => db.RunRecords.LongCount(r => r.ListingId == l.Id && r.Outcome == RunOutcome.Completed))
            .SetProperty(l => l.FailedRunsCount, l => db.RunRecords.LongCount(r => r.ListingId == l.Id && r.Outcome == RunOutcome.Failed))
            .SetProperty(l => l.Users30d, l => db.RunRecords
                .Where(r => r.ListingId == l.Id && r.Outcome == RunOutcome.Completed && r.FinishedUtc > windowStart)
                .Select(r => r.OrganizationId).Distinct().Count())
            .SetProperty(l => l.ReviewsCount, l => db.Reviews.Count(r => r.ListingId == l.Id && r.HiddenUtc == null))
            .SetProperty(l => l.RatingTotal, l => db.Reviews.Where(r => r.ListingId == l.Id && r.HiddenUtc == null).Sum(r => (long)r.Rating)), ct);

        var firstDay = DateOnly.FromDateTime(windowStart);
        var days = await db.RunRecords.Where(r => r.Day >= firstDay)
            .GroupBy(r => new { r.ListingId, r.Day })
            .Select(g => new ListingDailyStat
            {
                ListingId = g.Key.ListingId,
                Day = g.Key.Day,
                CompletedRuns = g.Count(r => r.Outcome == RunOutcome.Completed),
                FailedRuns = g.Count(r => r.Outcome == RunOutcome.Failed),
                Customers = g.Select(r => r.OrganizationId).Distinct().Count(),
            })
            .ToListAsync(ct);
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.ListingDailyStats.Where(s => s.Day >= firstDay).ExecuteDeleteAsync(ct);
        db.ListingDailyStats.AddRange(days);
        await db.SaveChangesAsync(ct);
        await transaction.CommitAsync(ct);
        db.ChangeTracker.Clear();
    }
}

/// <summary>
/// What this process knows the run records hold, per organization and listing: the last day it ran and when it last
/// completed. Recording a run asks both questions for every run; once a pair has run today, or completed within the
/// users window, the answer cannot change back, so it comes from here instead of two queries. Remembered only after
/// the records commit (<see cref="Remember"/>), so it never knows more than the database; a process that has not seen
/// a pair asks the database.
/// </summary>
public sealed class RecordedRuns
{
    readonly ConcurrentDictionary<(Guid Organization, Guid Listing), (DateOnly LastDay, DateTime? LastCompletedUtc)> _known = new();

    public bool RanOn(Guid organization, Guid listing, DateOnly day) =>
        _known.TryGetValue((organization, listing), out var known) && known.LastDay == day;

    public bool CompletedAfter(Guid organization, Guid listing, DateTime afterUtc) =>
        _known.TryGetValue((organization, listing), out var known) && known.LastCompletedUtc > afterUtc;

    /// <summary>Call once the records of <paramref name="runs"/> are committed.</summary>
    public void Remember(IEnumerable<FinishedRun> runs)
    {
        foreach (var run in runs)
        {
            var day = DateOnly.FromDateTime(run.FinishedUtc);
            DateTime? completed = run.Outcome == RunOutcome.Completed ? run.FinishedUtc : null;
            _known.AddOrUpdate((run.OrganizationId, run.ListingId), (day, completed), (_, known) =>
                (day > known.LastDay ? day : known.LastDay, Later(completed, known.LastCompletedUtc)));
        }
    }

    static DateTime? Later(DateTime? a, DateTime? b) => a is null ? b : b is null || a > b ? a : b;
}
