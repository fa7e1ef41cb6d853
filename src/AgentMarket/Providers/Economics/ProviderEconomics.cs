using System.Globalization;
using AgentMarket.Catalog;
using AgentMarket.Credits;
using AgentMarket.Platform.Data;
using AgentMarket.Platform.Tenancy;
using AgentMarket.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Economics;

public enum EconomicsGrouping
{
    Day,
    Agent,
}

/// <summary>
/// One group of a provider's runs (a day, or an agent). Money in whole credits; a credit is a US cent, so the
/// <c>_usd_cents</c> figures are the same numbers. Gross is what the runs were worth, earnings what the ledger credited the
/// provider, commission the platform's share (gross − earnings, including any reduction for runs paid with granted credits).
/// <see cref="RunsBounded"/> and <see cref="RunsEstimated"/> count the runs whose tokens are not the model endpoint's own
/// figures (ADR-172): held to what the text can hold, or estimated because the endpoint reported none.
/// </summary>
public sealed record EconomicsRow(
    DateOnly? Day, Guid? Listing, string? Agent, long Runs, long Succeeded, long GrossCredits, long EarningsCredits, long CommissionCredits,
    long PromotionalCredits, long InputTokens, long OutputTokens, long RunsBounded, long RunsEstimated, decimal ModelCostCredits, int? LatencyAvgMs);

public sealed record EconomicsTotals(
    long Runs, long Succeeded, double? SuccessRate, long GrossCredits, long GrossUsdCents, long EarningsCredits, long EarningsUsdCents,
    long CommissionCredits, long CommissionUsdCents, long PromotionalCredits, int UniqueCustomers, long InputTokens, long OutputTokens,
    long RunsBounded, long RunsEstimated, decimal ModelCostCredits, decimal? CostPerRunCredits, long? TokensPerRun, int? LatencyAvgMs, int? LatencyP50Ms, int? LatencyP95Ms);

/// <summary>A buyer organization by name only (never its members or ids).</summary>
public sealed record TopCustomer(string OrganizationName, long Runs, long GrossCredits);

public sealed record ReviewToAnswer(Guid Uuid, Guid Listing, string Agent, int Rating, string Text, DateTime Created);

/// <summary>
/// The measured model cost of an agent's latest runs against what a run earns: <see cref="BelowCost"/> warns when the
/// price per run is lower than the average cost.
/// </summary>
public sealed record PricingHint(
    Guid Listing, string Agent, string PricingModel, long? PriceCredits, int RunsMeasured, decimal? AverageCostCredits, bool BelowCost, string Message);

public sealed record EconomicsReport(
    Guid Provider, DateOnly From, DateOnly To, EconomicsGrouping GroupBy, decimal CommissionPercent, string GrantedCreditRuns,
    EconomicsTotals Totals, IReadOnlyList<EconomicsRow> Rows, IReadOnlyList<TopCustomer> TopCustomers,
    int ReviewsAwaitingReply, IReadOnlyList<ReviewToAnswer> Reviews, IReadOnlyList<PricingHint> PricingHints);

/// <summary>
/// A provider's economics (SPEC §5 seller dashboard) for <c>GET /api/providers/mine/economics/</c> and the earnings page:
/// every figure over a range of days comes from the daily rollups; pricing hints read the agent's latest runs.
/// </summary>
sealed class ProviderEconomics(AppDbContext db, CurrentTenant tenant, Gateway.RunProjector projector, IOptions<CreditsOptions> credits, IOptionsMonitor<EconomicsOptions> options, TimeProvider clock)
{
    public const int TopCustomers = 5;
    public const int ReviewsShown = 10;

    /// <summary>How far back pricing hints look for an agent's latest runs.</summary>
    public const int HintDays = 90;

    public DateOnly Today => DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime);

    /// <summary>The calling organization's provider, or null when it does not sell.</summary>
    public Task<Provider?> MineAsync(CancellationToken ct)
    {
        var organization = tenant.RequiredOrganizationId;
        return db.Providers.AsNoTracking().FirstOrDefaultAsync(p => p.OrganizationId == organization, ct);
    }

    public async Task<EconomicsReport> ReportAsync(Guid provider, DateOnly from, DateOnly to, EconomicsGrouping groupBy, CancellationToken ct)
    {
        await projector.CaughtUpAsync(ct);
        var sums = await db.EconomicsListingDays.AsNoTracking().Where(d => d.ProviderId == provider && d.Day >= from && d.Day <= to)
            .Select(d => new Sums(d.Day, d.ListingId, d.Runs, d.Succeeded, d.GrossCredits, d.ProviderEarnings, d.PromotionalCredits, d.InputTokens,
                d.OutputTokens, d.RunsBounded, d.RunsEstimated, d.ModelCostMicrocredits, d.LatencyMsSum))
            .ToListAsync(ct);
        var (uniqueCustomers, top) = await CustomersAsync(provider, from, to, ct);
        var buyers = top.Select(t => t.Buyer).ToList();
        var names = await db.Organizations.AsNoTracking().Where(o => buyers.Contains(o.Id)).ToDictionaryAsync(o => o.Id, o => o.Name, ct);
        var latency = new LatencyHistogram();
        foreach (var bucket in await db.EconomicsLatencies.AsNoTracking()
            .Where(l => l.ProviderId == provider && l.Day >= from && l.Day <= to)
            .GroupBy(l => l.LatencyMs).Select(g => new { Ms = g.Key, Runs = g.Sum(l => l.Runs) }).ToListAsync(ct))
        {
            latency.Add(bucket.Ms, bucket.Runs);
        }

        var listings = await db.Listings.AsNoTracking().Where(l => l.ProviderId == provider)
            .Select(l => new { l.Id, l.Name, l.PricingModel, l.CreditsPerRun }).ToListAsync(ct);
        var agentNames = listings.ToDictionary(l => l.Id, l => l.Name);

        var byDay = sums.ToLookup(s => s.Day);
        var rows = groupBy == EconomicsGrouping.Day
            ? Enumerable.Range(0, to.DayNumber - from.DayNumber + 1).Select(i => from.AddDays(i))
                .Select(day => Row(day, null, null, byDay[day])).ToList()
            : sums.GroupBy(s => s.Listing)
                .Select(g => Row(null, g.Key, agentNames.GetValueOrDefault(g.Key, "(removed agent)"), g))
                .OrderByDescending(r => r.GrossCredits).ThenBy(r => r.Agent, StringComparer.Ordinal).ToList();
        var all = Row(null, null, null, sums);
        var totals = new EconomicsTotals(
            all.Runs, all.Succeeded, all.Runs == 0 ? null : Math.Round((double)all.Succeeded / all.Runs, 3),
            all.GrossCredits, all.GrossCredits, all.EarningsCredits, all.EarningsCredits, all.CommissionCredits, all.CommissionCredits,
            all.PromotionalCredits, (int)uniqueCustomers, all.InputTokens, all.OutputTokens, all.RunsBounded, all.RunsEstimated, all.ModelCostCredits,
            all.Runs == 0 ? null : Math.Round(all.ModelCostCredits / all.Runs, 4),
            all.Runs == 0 ? null : (all.InputTokens + all.OutputTokens) / all.Runs,
            all.LatencyAvgMs, latency.Percentile(50), latency.Percentile(95));

        var listingIds = listings.Select(l => l.Id).ToList();
        var unanswered = db.Reviews.AsNoTracking().Where(r => listingIds.Contains(r.ListingId) && r.ProviderReply == null && r.HiddenUtc == null);
        var reviews = await unanswered.OrderByDescending(r => r.CreatedUtc).Take(ReviewsShown).ToListAsync(ct);

        return new EconomicsReport(provider, from, to, groupBy, credits.Value.CommissionPercent, options.CurrentValue.GrantedCreditRuns, totals, rows,
            top.Select(t => new TopCustomer(names.GetValueOrDefault(t.Buyer, "(deleted organization)"), t.Runs, t.GrossCredits)).ToList(),
            await unanswered.CountAsync(ct),
            reviews.Select(r => new ReviewToAnswer(r.Id, r.ListingId, agentNames.GetValueOrDefault(r.ListingId, ""), r.Rating, r.Text, r.CreatedUtc)).ToList(),
            await PricingHintsAsync(provider, listings.Select(l => (l.Id, l.Name, l.PricingModel, l.CreditsPerRun)).ToList(), ct));
    }

    /// <summary>One buyer's runs and spend over a range, with the number of buyers in the range (the same on every row).</summary>
    sealed record CustomerSums(Guid Buyer, long Runs, long GrossCredits, long Customers);

    /// <summary>
    /// Unique customers and the top ones over the range, in one read grouped by buyer: whole calendar months from the
    /// customer-months, the partial months at the range's edges from the buyer-level days. Grouping the union by buyer
    /// counts a customer active in several months or edges once, so the count is exact for any range.
    /// </summary>
    async Task<(long Unique, List<CustomerSums> Top)> CustomersAsync(Guid provider, DateOnly from, DateOnly to, CancellationToken ct)
    {
        // Whole months inside the range are those from firstMonth up to (not including) endMonth.
        var firstMonth = from.Day == 1 ? from : EconomicsRollups.MonthOf(from).AddMonths(1);
        var endMonth = EconomicsRollups.MonthOf(to.AddDays(1));
        if (firstMonth >= endMonth)
        {
            // No whole month: every day of the range comes from the days (the second edge is empty).
            firstMonth = endMonth = to.AddDays(1);
        }
        var visitor = Guid.Empty;
        var top = await db.Database.SqlQuery<CustomerSums>($"""
            SELECT buyer_organization_id AS "Buyer", CAST(SUM(runs) AS bigint) AS "Runs", CAST(SUM(gross_credits) AS bigint) AS "GrossCredits",
                COUNT(*) OVER () AS "Customers"
            FROM (
                SELECT buyer_organization_id, runs, gross_credits FROM economics_customer_months
                WHERE provider_id = {provider} AND month >= {firstMonth} AND month < {endMonth}
                UNION ALL
                SELECT buyer_organization_id, runs, gross_credits FROM economics_days
                WHERE provider_id = {provider} AND day >= {from} AND day < {firstMonth} AND buyer_organization_id <> {visitor}
                UNION ALL
                SELECT buyer_organization_id, runs, gross_credits FROM economics_days
                WHERE provider_id = {provider} AND day >= {endMonth} AND day <= {to} AND buyer_organization_id <> {visitor}
            ) AS activity
            GROUP BY buyer_organization_id
            ORDER BY SUM(gross_credits) DESC, SUM(runs) DESC, buyer_organization_id
            LIMIT {TopCustomers}
            """).ToListAsync(ct);
        return (top.FirstOrDefault()?.Customers ?? 0, top);
    }

    /// <summary>
    /// Per agent: the average model cost of its latest runs, from the rollups of its most recent days that add up to at
    /// least <see cref="EconomicsOptions.PricingHintRuns"/> runs (whole days, at most <see cref="HintDays"/> back), and a
    /// warning when what a run earns at list price is below that cost.
    /// </summary>
    async Task<IReadOnlyList<PricingHint>> PricingHintsAsync(Guid provider, IReadOnlyList<(Guid Id, string Name, PricingModel Model, long CreditsPerRun)> listings, CancellationToken ct)
    {
        var settings = options.CurrentValue;
        var since = Today.AddDays(-HintDays);
        var recent = await db.EconomicsListingDays.AsNoTracking().Where(d => d.ProviderId == provider && d.Day >= since)
            .Select(d => new { d.ListingId, d.Day, d.Runs, d.Succeeded, Gross = d.GrossCredits, Cost = d.ModelCostMicrocredits })
            .ToListAsync(ct);
        var hints = new List<PricingHint>();
        foreach (var listing in listings)
        {
            long runs = 0, succeeded = 0, gross = 0, cost = 0;
            foreach (var day in recent.Where(r => r.ListingId == listing.Id).OrderByDescending(r => r.Day))
            {
                (runs, succeeded, gross, cost) = (runs + day.Runs, succeeded + day.Succeeded, gross + day.Gross, cost + day.Cost);
                if (runs >= settings.PricingHintRuns)
                {
                    break;
                }
            }
            var model = EnumNames<PricingModel>.ToName(listing.Model);
            if (runs == 0)
            {
                hints.Add(new PricingHint(listing.Id, listing.Name, model, null, 0, null, false, "No runs yet to measure."));
                continue;
            }
            var average = Math.Round(cost / 1_000_000m / runs, 4);
            long? price = listing.Model switch
            {
                PricingModel.FixedCredits => listing.CreditsPerRun,
                PricingModel.VariableCredits => succeeded == 0 ? null : (long)Math.Round((decimal)gross / succeeded, MidpointRounding.AwayFromZero),
                PricingModel.Free => 0,
                _ => null, // a monthly price has no per-run price to compare
            };
            var below = price is { } perRun && listing.Model != PricingModel.Free && perRun < average;
            // Read on the earnings page and in the API: the site's number formats, whatever the server's culture.
            var averageText = Catalog.Pages.Money.Fraction(average);
            var message = below
                ? string.Create(CultureInfo.InvariantCulture, $"A run earns {price:N0} credits but its model costs {averageText} credits on average over the last {runs:N0} runs: raise the price.")
                : string.Create(CultureInfo.InvariantCulture, $"Average model cost {averageText} credits per run over the last {runs:N0} runs.");
            hints.Add(new PricingHint(listing.Id, listing.Name, model, price, (int)Math.Min(runs, int.MaxValue), average, below, message));
        }
        return hints;
    }

    sealed record Sums(DateOnly Day, Guid Listing, long Runs, long Succeeded, long Gross, long Earnings, long Promotional, long InputTokens, long OutputTokens,
        long RunsBounded, long RunsEstimated, long CostMicrocredits, long LatencySum);

    static EconomicsRow Row(DateOnly? day, Guid? listing, string? agent, IEnumerable<Sums> sums)
    {
        long runs = 0, succeeded = 0, gross = 0, earnings = 0, promotional = 0, input = 0, output = 0, bounded = 0, estimated = 0, cost = 0, latency = 0;
        foreach (var s in sums)
        {
            runs += s.Runs;
            succeeded += s.Succeeded;
            gross += s.Gross;
            earnings += s.Earnings;
            promotional += s.Promotional;
            input += s.InputTokens;
            output += s.OutputTokens;
            bounded += s.RunsBounded;
            estimated += s.RunsEstimated;
            cost += s.CostMicrocredits;
            latency += s.LatencySum;
        }
        return new EconomicsRow(day, listing, agent, runs, succeeded, gross, earnings, gross - earnings, promotional, input, output, bounded, estimated,
            cost / 1_000_000m, succeeded == 0 ? null : (int)(latency / succeeded));
    }
}
