using System.Text.Json.Serialization;
using AgentMarket.Payments;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Admin.PlatformMetrics;

/// <summary>One UTC day. GMV is USD cents paid in (completed payments, refunds not deducted); a credit is a US cent.</summary>
public sealed record PlatformMetricsDay(
    DateOnly Day, long GmvUsdCents, long CreditsSpent, long Runs, long Succeeded, long ActiveOrganizations, long SignUps);

public sealed record PlatformMetricsTotals(
    long GmvUsdCents, long RefundedUsdCents, long Payments, long CreditsSpent, long TrialCredits, long PlatformFeesCredits,
    long Runs, long Succeeded, double? SuccessRate, long SignUps);

/// <summary>Distinct organizations that ran an agent in the last 1, 7 and 30 days up to the report's last day.</summary>
public sealed record ActiveOrganizations(
    [property: JsonPropertyName("day_1")] long Day1, [property: JsonPropertyName("day_7")] long Day7, [property: JsonPropertyName("day_30")] long Day30);

public sealed record TopAgent(Guid Listing, string Slug, string Name, string ProviderHandle, long Runs, double? SuccessRate, long Credits);
public sealed record TopProvider(Guid Provider, string Handle, string Name, long Runs, long Credits);

/// <summary>USD paid in for a plan's subscriptions and renewals; credit packages (bought or automatic) under <c>packages</c>.</summary>
public sealed record PlanRevenue(string Plan, long UsdCents, long Payments);

public sealed record PlatformMetricsReport(
    DateOnly From, DateOnly To, int Days, PlatformMetricsTotals Totals, ActiveOrganizations ActiveOrganizations,
    IReadOnlyList<PlatformMetricsDay> PerDay, IReadOnlyList<TopAgent> TopAgents, IReadOnlyList<TopProvider> TopProviders,
    IReadOnlyList<PlanRevenue> RevenueByPlan);

/// <summary>
/// The operator's platform metrics (issue 8): runs, credits and active organizations from the platform rollups
/// (<see cref="PlatformRollups"/>), GMV and revenue by plan from the period's payments, sign-ups from the period's
/// new users. No query reads runs or ledger rows, so the cost grows with days, listings and payments, not runs.
/// </summary>
sealed class PlatformMetricsQueries(AppDbContext db, Gateway.RunProjector projector, TimeProvider clock)
{
    public const int DefaultDays = 30;
    public const int MaxDays = 366;
    public const int TopCount = 10;
    public const string Packages = "packages";

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    public async Task<PlatformMetricsReport> ReportAsync(int days, CancellationToken ct)
    {
        await projector.CaughtUpAsync(ct);
        var to = Today;
        var from = to.AddDays(1 - days);
        var (start, end) = (from.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), to.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));

        var rollups = await db.PlatformDays.AsNoTracking().Where(d => d.Day >= from && d.Day <= to).ToDictionaryAsync(d => d.Day, ct);
        // Grouped by the database: a row per day (and plan), however many payments and users there are.
        var payments = await db.Payments.IgnoreQueryFilters().AsNoTracking() // every organization's
            .Where(p => p.CompletedUtc >= start && p.CompletedUtc < end
                && (p.Status == PaymentStatus.Succeeded || p.Status == PaymentStatus.Refunded || p.Status == PaymentStatus.PartiallyRefunded))
            .GroupBy(p => new { p.CompletedUtc!.Value.Date, p.Purpose, p.PlanCode })
            .Select(g => new { g.Key.Date, g.Key.Purpose, g.Key.PlanCode, Cents = g.Sum(p => p.AmountCents), Refunded = g.Sum(p => p.RefundedCents), Count = g.LongCount() })
            .ToListAsync(ct);
        var signUpsByDay = (await db.Users.AsNoTracking().Where(u => u.CreatedUtc >= start && u.CreatedUtc < end)
            .GroupBy(u => u.CreatedUtc.Date).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct))
            .ToDictionary(g => DateOnly.FromDateTime(g.Key), g => g.Count);
        var gmvByDay = payments.GroupBy(p => DateOnly.FromDateTime(p.Date)).ToDictionary(g => g.Key, g => g.Sum(p => p.Cents));

        var perDay = Enumerable.Range(0, days).Select(i => from.AddDays(i)).Select(day =>
        {
            var r = rollups.GetValueOrDefault(day);
            return new PlatformMetricsDay(day, gmvByDay.GetValueOrDefault(day), r?.CreditsSpent ?? 0, r?.Runs ?? 0, r?.Succeeded ?? 0,
                r?.ActiveOrganizations ?? 0, signUpsByDay.GetValueOrDefault(day));
        }).ToList();
        var (runs, succeeded) = (rollups.Values.Sum(d => d.Runs), rollups.Values.Sum(d => d.Succeeded));
        var totals = new PlatformMetricsTotals(
            payments.Sum(p => p.Cents), payments.Sum(p => p.Refunded), payments.Sum(p => p.Count),
            rollups.Values.Sum(d => d.CreditsSpent), rollups.Values.Sum(d => d.TrialCredits), rollups.Values.Sum(d => d.PlatformFees),
            runs, succeeded, runs == 0 ? null : Math.Round((double)succeeded / runs, 3), signUpsByDay.Values.Sum());

        var revenue = payments
            .GroupBy(p => p.Purpose is PaymentPurpose.Plan or PaymentPurpose.Renewal ? p.PlanCode ?? "unknown" : Packages)
            .Select(g => new PlanRevenue(g.Key, g.Sum(p => p.Cents), g.Sum(p => p.Count)))
            .OrderByDescending(r => r.UsdCents).ThenBy(r => r.Plan, StringComparer.Ordinal).ToList();

        var (topAgents, topProviders) = await TopAsync(from, to, ct);
        return new PlatformMetricsReport(from, to, days, totals, await ActiveAsync(to, ct), perDay, topAgents, topProviders, revenue);
    }

    /// <summary>One read of the last 30 days' organization-days: each organization's latest active day, counted per window.</summary>
    async Task<ActiveOrganizations> ActiveAsync(DateOnly to, CancellationToken ct)
    {
        var first = to.AddDays(-29);
        var latest = await db.PlatformOrganizationDays.AsNoTracking().Where(o => o.Day >= first && o.Day <= to)
            .GroupBy(o => o.OrganizationId).Select(g => g.Max(o => o.Day)).ToListAsync(ct);
        return new ActiveOrganizations(latest.Count(day => day == to), latest.Count(day => day > to.AddDays(-7)), latest.Count);
    }

    /// <summary>
    /// The listings and the providers that took the most credits (then runs) in the period, from one read of the
    /// listing-days summed per listing (a listing belongs to one provider, so providers are sums of their listings).
    /// </summary>
    async Task<(List<TopAgent> Agents, List<TopProvider> Providers)> TopAsync(DateOnly from, DateOnly to, CancellationToken ct)
    {
        var listings = await db.PlatformListingDays.AsNoTracking().Where(d => d.Day >= from && d.Day <= to)
            .GroupBy(d => new { d.ListingId, d.ProviderId })
            .Select(g => new { g.Key.ListingId, g.Key.ProviderId, Runs = g.Sum(d => d.Runs), Succeeded = g.Sum(d => d.Succeeded), Credits = g.Sum(d => d.GrossCredits) })
            .ToListAsync(ct);
        var topListings = listings.OrderByDescending(x => x.Credits).ThenByDescending(x => x.Runs).ThenBy(x => x.ListingId).Take(TopCount).ToList();
        var topProviders = listings.GroupBy(x => x.ProviderId)
            .Select(g => new { Provider = g.Key, Runs = g.Sum(x => x.Runs), Credits = g.Sum(x => x.Credits) })
            .OrderByDescending(x => x.Credits).ThenByDescending(x => x.Runs).ThenBy(x => x.Provider).Take(TopCount).ToList();

        var listingIds = topListings.ConvertAll(t => t.ListingId);
        var listingNames = await db.Listings.AsNoTracking().Where(l => listingIds.Contains(l.Id))
            .Select(l => new { l.Id, l.Slug, l.Name, l.Provider!.Handle }).ToDictionaryAsync(l => l.Id, ct);
        var providerIds = topProviders.ConvertAll(t => t.Provider);
        var providerNames = await db.Providers.AsNoTracking().Where(p => providerIds.Contains(p.Id)).ToDictionaryAsync(p => p.Id, p => (p.Handle, p.Name), ct);
        return (
            topListings.ConvertAll(t => listingNames.TryGetValue(t.ListingId, out var l)
                ? new TopAgent(t.ListingId, l.Slug, l.Name, l.Handle, t.Runs, Rate(t.Succeeded, t.Runs), t.Credits)
                : new TopAgent(t.ListingId, "", "(removed agent)", "", t.Runs, Rate(t.Succeeded, t.Runs), t.Credits)),
            topProviders.ConvertAll(t => providerNames.TryGetValue(t.Provider, out var p)
                ? new TopProvider(t.Provider, p.Handle, p.Name, t.Runs, t.Credits)
                : new TopProvider(t.Provider, "", "(removed provider)", t.Runs, t.Credits)));
    }

    static double? Rate(long succeeded, long runs) => runs == 0 ? null : Math.Round((double)succeeded / runs, 3);
}
