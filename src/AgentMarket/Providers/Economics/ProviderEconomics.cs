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
/// </summary>
public sealed record EconomicsRow(
    DateOnly? Day, Guid? Listing, string? Agent, long Runs, long Succeeded, long GrossCredits, long EarningsCredits, long CommissionCredits,
    long PromotionalCredits, long InputTokens, long OutputTokens, decimal ModelCostCredits, int? LatencyAvgMs);

public sealed record EconomicsTotals(
    long Runs, long Succeeded, double? SuccessRate, long GrossCredits, long GrossUsdCents, long EarningsCredits, long EarningsUsdCents,
    long CommissionCredits, long CommissionUsdCents, long PromotionalCredits, int UniqueCustomers, long InputTokens, long OutputTokens,
    decimal ModelCostCredits, decimal? CostPerRunCredits, long? TokensPerRun, int? LatencyAvgMs, int? LatencyP50Ms, int? LatencyP95Ms);

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
        var days = db.EconomicsDays.AsNoTracking().Where(d => d.ProviderId == provider && d.Day >= from && d.Day <= to);
        var sums = await days
            .GroupBy(d => new { d.Day, d.ListingId })
            .Select(g => new Sums(g.Key.Day, g.Key.ListingId, g.Sum(d => d.Runs), g.Sum(d => d.Succeeded), g.Sum(d => d.GrossCredits), g.Sum(d => d.ProviderEarnings),
                g.Sum(d => d.PromotionalCredits), g.Sum(d => d.InputTokens), g.Sum(d => d.OutputTokens), g.Sum(d => d.ModelCostMicrocredits), g.Sum(d => d.LatencyMsSum)))
            .ToListAsync(ct);
        var uniqueCustomers = await days.Where(d => d.BuyerOrganizationId != Guid.Empty).Select(d => d.BuyerOrganizationId).Distinct().CountAsync(ct);
        var top = await days.Where(d => d.BuyerOrganizationId != Guid.Empty)
            .GroupBy(d => d.BuyerOrganizationId)
            .Select(g => new { Buyer = g.Key, Runs = g.Sum(d => d.Runs), Gross = g.Sum(d => d.GrossCredits) })
            .OrderByDescending(x => x.Gross).ThenByDescending(x => x.Runs)
            .Take(TopCustomers)
            .ToListAsync(ct);
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

        var rows = groupBy == EconomicsGrouping.Day
            ? Enumerable.Range(0, to.DayNumber - from.DayNumber + 1).Select(i => from.AddDays(i))
                .Select(day => Row(day, null, null, sums.Where(s => s.Day == day))).ToList()
            : sums.GroupBy(s => s.Listing)
                .Select(g => Row(null, g.Key, agentNames.GetValueOrDefault(g.Key, "(removed agent)"), g))
                .OrderByDescending(r => r.GrossCredits).ThenBy(r => r.Agent, StringComparer.Ordinal).ToList();
        var all = Row(null, null, null, sums);
        var totals = new EconomicsTotals(
            all.Runs, all.Succeeded, all.Runs == 0 ? null : Math.Round((double)all.Succeeded / all.Runs, 3),
            all.GrossCredits, all.GrossCredits, all.EarningsCredits, all.EarningsCredits, all.CommissionCredits, all.CommissionCredits,
            all.PromotionalCredits, uniqueCustomers, all.InputTokens, all.OutputTokens, all.ModelCostCredits,
            all.Runs == 0 ? null : Math.Round(all.ModelCostCredits / all.Runs, 4),
            all.Runs == 0 ? null : (all.InputTokens + all.OutputTokens) / all.Runs,
            all.LatencyAvgMs, latency.Percentile(50), latency.Percentile(95));

        var listingIds = listings.Select(l => l.Id).ToList();
        var unanswered = db.Reviews.AsNoTracking().Where(r => listingIds.Contains(r.ListingId) && r.ProviderReply == null && r.HiddenUtc == null);
        var reviews = await unanswered.OrderByDescending(r => r.CreatedUtc).Take(ReviewsShown).ToListAsync(ct);

        return new EconomicsReport(provider, from, to, groupBy, credits.Value.CommissionPercent, options.CurrentValue.GrantedCreditRuns, totals, rows,
            top.Select(t => new TopCustomer(names.GetValueOrDefault(t.Buyer, "(deleted organization)"), t.Runs, t.Gross)).ToList(),
            await unanswered.CountAsync(ct),
            reviews.Select(r => new ReviewToAnswer(r.Id, r.ListingId, agentNames.GetValueOrDefault(r.ListingId, ""), r.Rating, r.Text, r.CreatedUtc)).ToList(),
            await PricingHintsAsync(provider, listings.Select(l => (l.Id, l.Name, l.PricingModel, l.CreditsPerRun)).ToList(), ct));
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
        var recent = await db.EconomicsDays.AsNoTracking().Where(d => d.ProviderId == provider && d.Day >= since)
            .GroupBy(d => new { d.ListingId, d.Day })
            .Select(g => new { g.Key.ListingId, g.Key.Day, Runs = g.Sum(d => d.Runs), Succeeded = g.Sum(d => d.Succeeded), Gross = g.Sum(d => d.GrossCredits), Cost = g.Sum(d => d.ModelCostMicrocredits) })
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
            var message = below
                ? $"A run earns {price:N0} credits but its model costs {average:0.####} credits on average over the last {runs:N0} runs: raise the price."
                : $"Average model cost {average:0.####} credits per run over the last {runs:N0} runs.";
            hints.Add(new PricingHint(listing.Id, listing.Name, model, price, (int)Math.Min(runs, int.MaxValue), average, below, message));
        }
        return hints;
    }

    sealed record Sums(DateOnly Day, Guid Listing, long Runs, long Succeeded, long Gross, long Earnings, long Promotional, long InputTokens, long OutputTokens,
        long CostMicrocredits, long LatencySum);

    static EconomicsRow Row(DateOnly? day, Guid? listing, string? agent, IEnumerable<Sums> sums)
    {
        long runs = 0, succeeded = 0, gross = 0, earnings = 0, promotional = 0, input = 0, output = 0, cost = 0, latency = 0;
        foreach (var s in sums)
        {
            runs += s.Runs;
            succeeded += s.Succeeded;
            gross += s.Gross;
            earnings += s.Earnings;
            promotional += s.Promotional;
            input += s.InputTokens;
            output += s.OutputTokens;
            cost += s.CostMicrocredits;
            latency += s.LatencySum;
        }
        return new EconomicsRow(day, listing, agent, runs, succeeded, gross, earnings, gross - earnings, promotional, input, output,
            cost / 1_000_000m, succeeded == 0 ? null : (int)(latency / succeeded));
    }
}
