using System.Globalization;
using AgentMarket.Flows.Execution;
using AgentMarket.Gateway;
using AgentMarket.Platform.Api;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Usage;

public enum UsageGrouping
{
    Day,
    Agent,
    Key,
}

/// <summary>UTC days <see cref="From"/> to <see cref="To"/>, both included, of the current organization's runs, optionally of one subscription.</summary>
public sealed record UsageQuery(DateOnly From, DateOnly To, UsageGrouping GroupBy, Guid? Config = null)
{
    public const int DefaultDays = DayRange.DefaultDays;

    public static UsageQuery LastDays(DateOnly today, int days, UsageGrouping groupBy, Guid? config = null) =>
        new(today.AddDays(1 - days), today, groupBy, config);

    /// <summary>Reads the API's (and the usage page's) parameters; a problem names the parameter. Default: the last 30 days by day.</summary>
    public static (UsageQuery? Query, string? Field, string? Problem) Parse(string? from, string? to, string? groupBy, Guid? config, DateOnly today)
    {
        var (range, field, problem) = DayRange.Parse(from, to, today);
        if (range is not { } days)
        {
            return (null, field, problem);
        }
        var grouping = UsageGrouping.Day;
        if (!string.IsNullOrEmpty(groupBy) && !EnumNames<UsageGrouping>.TryParse(groupBy, out grouping))
        {
            return (null, "group_by", "Use day, agent or key.");
        }
        return (new UsageQuery(days.From, days.To, grouping, config), null, null);
    }
}

/// <summary>
/// One group of runs. Which of <see cref="Day"/>, the agent (<see cref="Config"/>, <see cref="Listing"/>,
/// <see cref="Agent"/>) or the key (<see cref="Key"/>, <see cref="KeyName"/>, <see cref="KeyPrefix"/>) is set depends on
/// the grouping. An agent row without a config is the agent page's playground; a key row without a key is runs made by
/// signed-in members (the chat page, the playground). <see cref="Runs"/> counts runs still in progress too; latencies
/// are of succeeded runs. <see cref="Refused"/> counts calls refused before the agent ran (<see cref="RunRefusals"/>:
/// not enough credits, the agent unavailable), which are not runs. <see cref="BoundedRuns"/> and
/// <see cref="EstimatedRuns"/> count runs whose tokens are not the model endpoint's own figures (ADR-172): held to what
/// the text can hold, or estimated because the endpoint reported none.
/// </summary>
public sealed record UsageRow(
    DateOnly? Day, Guid? Config, Guid? Listing, string? Agent, Guid? Key, string? KeyName, string? KeyPrefix,
    int Runs, int Succeeded, int Errors, int Refused, long CreditsCharged, long InputTokens, long OutputTokens, int BoundedRuns, int EstimatedRuns,
    int? LatencyP50Ms, int? LatencyP95Ms);

public sealed record UsageTotals(
    int Runs, int Succeeded, int Errors, int Refused, long CreditsCharged, long InputTokens, long OutputTokens, int BoundedRuns, int EstimatedRuns,
    int? LatencyP50Ms, int? LatencyP95Ms);

public sealed record UsageReport(DateOnly From, DateOnly To, UsageGrouping GroupBy, Guid? Config, IReadOnlyList<UsageRow> Rows, UsageTotals Totals);

/// <summary>
/// Buyers' usage (SPEC §6) from the run records the gateway writes: per day, agent or key, with totals. Shared by
/// <c>GET /api/usage/</c> and the buyer pages. Reads through the tenant filter, so only the organization's own runs count.
/// </summary>
sealed class UsageQueries(AppDbContext db, TimeProvider clock)
{
    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The report, or null when <see cref="UsageQuery.Config"/> is not one of the organization's subscriptions.</summary>
    public async Task<UsageReport?> ReportAsync(UsageQuery query, CancellationToken ct)
    {
        if (query.Config is { } configId && !await db.CustomerAgentConfigs.AnyAsync(c => c.Id == configId, ct))
        {
            return null;
        }
        var runs = db.AgentRuns.AsNoTracking().Where(r => r.Day >= query.From && r.Day <= query.To);
        if (query.Config is { } config)
        {
            runs = runs.Where(r => r.ConfigId == config);
        }

        var groups = new Dictionary<UsageGroup, Figures>();
        Figures For(UsageGroup group) => groups.TryGetValue(group, out var figures) ? figures : groups[group] = new Figures();

        // Sums at the finest grain a report can ask for (a few rows per day and key), rolled up here into the grouping.
        var sums = await runs
            .GroupBy(r => new { r.Day, r.ConfigId, r.ListingId, r.KeyId })
            .Select(g => new
            {
                g.Key.Day, g.Key.ConfigId, g.Key.ListingId, g.Key.KeyId,
                All = g.Count(),
                Succeeded = g.Count(r => r.Status == AgentRunStatus.Succeeded),
                Failed = g.Count(r => r.Status == AgentRunStatus.Failed),
                Refused = g.Count(r => r.Status == AgentRunStatus.Failed && RunRefusals.Codes.Contains(r.ErrorCode!)),
                Credits = g.Sum(r => r.CreditsCharged),
                InputTokens = g.Sum(r => r.InputTokens),
                OutputTokens = g.Sum(r => r.OutputTokens),
                Bounded = g.Count(r => r.UsageSource == UsageSource.Bounded),
                Estimated = g.Count(r => r.UsageSource == UsageSource.Estimated),
            })
            .ToListAsync(ct);
        foreach (var sum in sums)
        {
            var figures = For(UsageGroup.Of(query.GroupBy, sum.Day, sum.ConfigId, sum.ListingId, sum.KeyId));
            figures.Runs += sum.All - sum.Refused;
            figures.Succeeded += sum.Succeeded;
            figures.Errors += sum.Failed - sum.Refused;
            figures.Refused += sum.Refused;
            figures.Credits += sum.Credits;
            figures.InputTokens += sum.InputTokens;
            figures.OutputTokens += sum.OutputTokens;
            figures.BoundedRuns += sum.Bounded;
            figures.EstimatedRuns += sum.Estimated;
        }

        foreach (var (group, latency, count) in await LatenciesAsync(runs, query.GroupBy, ct))
        {
            For(group).Latencies.Add(latency, count);
        }

        if (query.GroupBy == UsageGrouping.Day)
        {
            // Every day of the range gets a row, so charts show quiet days as zero rather than skipping them.
            for (var day = query.From; day <= query.To; day = day.AddDays(1))
            {
                For(UsageGroup.Of(UsageGrouping.Day, day, null, Guid.Empty, null));
            }
        }

        var rows = await RowsAsync(query.GroupBy, groups, ct);
        var total = new Figures();
        foreach (var figures in groups.Values)
        {
            total.Add(figures);
        }
        return new UsageReport(query.From, query.To, query.GroupBy, query.Config, rows,
            new UsageTotals(total.Runs, total.Succeeded, total.Errors, total.Refused, total.Credits, total.InputTokens, total.OutputTokens,
                total.BoundedRuns, total.EstimatedRuns, total.Latencies.Percentile(50), total.Latencies.Percentile(95)));
    }

    /// <summary>Succeeded runs counted per group and latency bucket (<see cref="LatencyHistogram.Bucket"/>, written out in SQL).</summary>
    static async Task<List<(UsageGroup Group, int Latency, int Runs)>> LatenciesAsync(IQueryable<AgentRun> runs, UsageGrouping grouping, CancellationToken ct)
    {
        var succeeded = runs.Where(r => r.Status == AgentRunStatus.Succeeded).Select(r => new
        {
            r.Day, r.ConfigId, r.ListingId, r.KeyId,
            Latency = r.LatencyMs < 1_000 ? r.LatencyMs
                : r.LatencyMs < 10_000 ? r.LatencyMs / 10 * 10
                : r.LatencyMs < 100_000 ? r.LatencyMs / 100 * 100
                : r.LatencyMs / 1_000 * 1_000,
        });
        return grouping switch
        {
            UsageGrouping.Day => (await succeeded.GroupBy(r => new { r.Day, r.Latency })
                    .Select(g => new { g.Key.Day, g.Key.Latency, Runs = g.Count() }).ToListAsync(ct))
                .ConvertAll(x => (UsageGroup.Of(grouping, x.Day, null, Guid.Empty, null), x.Latency, x.Runs)),
            UsageGrouping.Agent => (await succeeded.GroupBy(r => new { r.ConfigId, r.ListingId, r.Latency })
                    .Select(g => new { g.Key.ConfigId, g.Key.ListingId, g.Key.Latency, Runs = g.Count() }).ToListAsync(ct))
                .ConvertAll(x => (UsageGroup.Of(grouping, default, x.ConfigId, x.ListingId, null), x.Latency, x.Runs)),
            UsageGrouping.Key => (await succeeded.GroupBy(r => new { r.KeyId, r.Latency })
                    .Select(g => new { g.Key.KeyId, g.Key.Latency, Runs = g.Count() }).ToListAsync(ct))
                .ConvertAll(x => (UsageGroup.Of(grouping, default, null, Guid.Empty, x.KeyId), x.Latency, x.Runs)),
        };
    }

    async Task<List<UsageRow>> RowsAsync(UsageGrouping grouping, Dictionary<UsageGroup, Figures> groups, CancellationToken ct)
    {
        switch (grouping)
        {
            case UsageGrouping.Day:
                return groups.OrderBy(g => g.Key.Day).Select(g => g.Value.ToRow(g.Key.Day, null, null, null, null, null, null)).ToList();
            case UsageGrouping.Agent:
            {
                var configIds = groups.Keys.Where(g => g.Config is not null).Select(g => g.Config!.Value).ToList();
                var listingIds = groups.Keys.Select(g => g.Listing).Distinct().ToList();
                // Terminated subscriptions keep their usage, so names are read whatever the state.
                var configs = await db.CustomerAgentConfigs.AsNoTracking().Where(c => configIds.Contains(c.Id)).ToDictionaryAsync(c => c.Id, c => c.Name, ct);
                // The listing ids come from this organization's own runs; listings are public rows.
                var listings = await db.Listings.AsNoTracking().Where(l => listingIds.Contains(l.Id)).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
                return Ordered(groups.Select(g => g.Value.ToRow(null, g.Key.Config, g.Key.Listing,
                    g.Key.Config is { } c && configs.TryGetValue(c, out var name) ? name : listings.GetValueOrDefault(g.Key.Listing), null, null, null)));
            }
            case UsageGrouping.Key:
            {
                var keyIds = groups.Keys.Where(g => g.Key is not null).Select(g => g.Key!.Value).ToList();
                var keys = await db.ApiKeys.AsNoTracking().Where(k => keyIds.Contains(k.Id)).ToDictionaryAsync(k => k.Id, k => new { k.Name, k.Prefix }, ct);
                return Ordered(groups.Select(g =>
                {
                    var key = g.Key.Key is { } id ? keys.GetValueOrDefault(id) : null;
                    return g.Value.ToRow(null, null, null, null, g.Key.Key, key?.Name, key?.Prefix);
                }));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(grouping));
        }
    }

    static List<UsageRow> Ordered(IEnumerable<UsageRow> rows) =>
        rows.OrderByDescending(r => r.CreditsCharged).ThenByDescending(r => r.Runs).ThenBy(r => r.Agent ?? r.KeyName, StringComparer.Ordinal).ToList();

    /// <summary>What a report row is keyed by; the members the grouping does not use stay empty.</summary>
    readonly record struct UsageGroup(DateOnly Day, Guid? Config, Guid Listing, Guid? Key)
    {
        public static UsageGroup Of(UsageGrouping grouping, DateOnly day, Guid? config, Guid listing, Guid? key) => grouping switch
        {
            UsageGrouping.Day => new(day, null, Guid.Empty, null),
            // A subscription runs one listing, so this groups by subscription, and playground runs (no subscription) by listing.
            UsageGrouping.Agent => new(default, config, listing, null),
            UsageGrouping.Key => new(default, null, Guid.Empty, key),
            _ => throw new ArgumentOutOfRangeException(nameof(grouping)),
        };
    }

    sealed class Figures
    {
        public int Runs;
        public int Succeeded;
        public int Errors;
        public int Refused;
        public long Credits;
        public long InputTokens;
        public long OutputTokens;
        public int BoundedRuns;
        public int EstimatedRuns;
        public readonly LatencyHistogram Latencies = new();

        public void Add(Figures other)
        {
            Runs += other.Runs;
            Succeeded += other.Succeeded;
            Errors += other.Errors;
            Refused += other.Refused;
            Credits += other.Credits;
            InputTokens += other.InputTokens;
            OutputTokens += other.OutputTokens;
            BoundedRuns += other.BoundedRuns;
            EstimatedRuns += other.EstimatedRuns;
            Latencies.Add(other.Latencies);
        }

        public UsageRow ToRow(DateOnly? day, Guid? config, Guid? listing, string? agent, Guid? key, string? keyName, string? keyPrefix) =>
            new(day, config, listing, agent, key, keyName, keyPrefix, Runs, Succeeded, Errors, Refused, Credits, InputTokens, OutputTokens,
                BoundedRuns, EstimatedRuns, Latencies.Percentile(50), Latencies.Percentile(95));
    }
}
