using AgentMarket.Credits.Ledger;
using AgentMarket.Flows.Execution;
using AgentMarket.Gateway;
using AgentMarket.Platform.Data;
using AgentMarket.Usage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Providers.Economics;

/// <summary>
/// The ledger operation that paid for a run, as the journal applied it: its kind and its transfers (none when the
/// payment was refused).
/// </summary>
public sealed record RunPayment(OperationKind Kind, IReadOnlyList<MovedCredits> Moved);

/// <summary>
/// Adds finished runs to the daily rollups, in the run projector's transaction that also takes them off its work list
/// (ADR-052), so each run is counted once. The money is read from the ledger transfers that settled the run (settled when
/// the journal recorded it), never recomputed from prices or the commission, so the rollups agree with the ledger
/// whatever the commission was when a run settled.
/// Subscriptions' monthly charges are added the same way, in the transaction of their settle.
/// </summary>
sealed class EconomicsRollups(AppDbContext db, IOptionsMonitor<EconomicsOptions> options)
{
    /// <summary>The ledger operations that can pay for a run, by the idempotency keys the gateway and usage reports use.</summary>
    static IEnumerable<string> SettleKeys(Guid run) => [$"run:{run}:settle", $"trial:{run}", $"usage:{run}:settle"];

    sealed record Money(long Gross, long Promotional, long Earnings, long Fees);

    static readonly string[] SumColumns = ["runs", "succeeded", "gross_credits", "promotional_credits", "provider_earnings", "platform_fees", "input_tokens",
        "output_tokens", "model_cost_microcredits", "latency_ms_sum", "runs_bounded", "runs_estimated"];
    static readonly CounterTable Days = new("economics_days", ["provider_id", "day", "listing_id", "buyer_organization_id"], SumColumns);
    static readonly CounterTable ListingDays = new("economics_listing_days", ["provider_id", "day", "listing_id"], SumColumns);
    static readonly CounterTable CustomerMonths = new("economics_customer_months", ["provider_id", "month", "buyer_organization_id"], ["runs", "gross_credits"]);
    static readonly CounterTable LatencyDays = new("economics_latency_days", ["provider_id", "day", "latency_ms"], ["runs"]);

    /// <summary>
    /// Adds the runs and returns what they added, one row per key, for rollups built on these (the platform's). What paid
    /// for each run is taken from <paramref name="payments"/> when it is there (the journal's own results), else read
    /// from the ledger.
    /// </summary>
    public async Task<IReadOnlyList<EconomicsDay>> AddAsync(IReadOnlyList<AgentRun> runs, IReadOnlyDictionary<Guid, RunPayment> payments, CancellationToken ct)
    {
        var finished = runs.Where(r => r.ProviderId is not null && r.Status != AgentRunStatus.Running).ToList();
        if (finished.Count == 0)
        {
            return [];
        }
        var paidFor = finished.Where(r => r.Status == AgentRunStatus.Succeeded).ToList();
        var money = await MoneyAsync(paidFor.Where(r => !payments.ContainsKey(r.Id)).Select(r => r.Id).ToList(), ct);
        foreach (var run in paidFor)
        {
            if (payments.TryGetValue(run.Id, out var payment))
            {
                money[run.Id] = MoneyOf(payment.Kind, payment.Moved);
            }
        }
        var prices = options.CurrentValue;

        var days = new Dictionary<(Guid Provider, DateOnly Day, Guid Listing, Guid Buyer), long[]>();
        var latencies = new Dictionary<(Guid Provider, DateOnly Day, int Latency), long>();
        foreach (var run in finished)
        {
            var key = (run.ProviderId!.Value, run.Day, run.ListingId, run.OrganizationId);
            if (!days.TryGetValue(key, out var sums))
            {
                days[key] = sums = new long[12];
            }
            var succeeded = run.Status == AgentRunStatus.Succeeded;
            var paid = money.GetValueOrDefault(run.Id) ?? new Money(0, 0, 0, 0);
            sums[0] += 1;
            sums[1] += succeeded ? 1 : 0;
            sums[2] += paid.Gross;
            sums[3] += paid.Promotional;
            sums[4] += paid.Earnings;
            sums[5] += paid.Fees;
            sums[6] += run.InputTokens;
            sums[7] += run.OutputTokens;
            sums[8] += prices.PriceOf(run.Model).Microcredits(run.InputTokens, run.OutputTokens);
            if (succeeded)
            {
                sums[9] += run.LatencyMs;
                var bucket = (run.ProviderId.Value, run.Day, LatencyHistogram.Bucket(run.LatencyMs));
                latencies[bucket] = latencies.GetValueOrDefault(bucket) + 1;
            }
            sums[10] += run.UsageSource == UsageSource.Bounded ? 1 : 0;
            sums[11] += run.UsageSource == UsageSource.Estimated ? 1 : 0;
        }

        var added = days.Select(d => new EconomicsDay
        {
            ProviderId = d.Key.Provider,
            Day = d.Key.Day,
            ListingId = d.Key.Listing,
            BuyerOrganizationId = d.Key.Buyer,
            Runs = d.Value[0],
            Succeeded = d.Value[1],
            GrossCredits = d.Value[2],
            PromotionalCredits = d.Value[3],
            ProviderEarnings = d.Value[4],
            PlatformFees = d.Value[5],
            InputTokens = d.Value[6],
            OutputTokens = d.Value[7],
            ModelCostMicrocredits = d.Value[8],
            LatencyMsSum = d.Value[9],
            RunsBounded = d.Value[10],
            RunsEstimated = d.Value[11],
        }).ToList();
        await WriteAsync(added, ct);
        await db.AddToCountersAsync(LatencyDays,
            latencies.Select(l => (object[])[l.Key.Provider, l.Key.Day, l.Key.Latency, l.Value]).ToList(), ct);
        return added;
    }

    /// <summary>
    /// Adds a subscription's monthly charge, made by the ledger operation <paramref name="chargeKey"/> in the caller's
    /// transaction, to the listing's day for the buyer: money but no runs (ADR-090, "Subscription charges"). Returns what
    /// it added, for the platform's rollups; nothing when the operation moved nothing.
    /// </summary>
    public async Task<IReadOnlyList<EconomicsDay>> AddSubscriptionChargeAsync(Guid provider, Guid listing, Guid buyer, DateOnly day, string chargeKey, CancellationToken ct)
    {
        if ((await MoneyAsync([chargeKey], ct)).GetValueOrDefault(chargeKey) is not { } paid)
        {
            return [];
        }
        EconomicsDay[] added =
        [
            new()
            {
                ProviderId = provider, Day = day, ListingId = listing, BuyerOrganizationId = buyer,
                GrossCredits = paid.Gross, PromotionalCredits = paid.Promotional, ProviderEarnings = paid.Earnings, PlatformFees = paid.Fees,
            },
        ];
        await WriteAsync(added, ct);
        return added;
    }

    /// <summary>
    /// Adds the rows to the buyer-level days and to the two rollups built from them, the listing-days and the
    /// customer-months: one statement per table.
    /// </summary>
    async Task WriteAsync(IReadOnlyList<EconomicsDay> rows, CancellationToken ct)
    {
        static object[] Sums(IEnumerable<EconomicsDay> days) =>
        [
            days.Sum(r => r.Runs), days.Sum(r => r.Succeeded), days.Sum(r => r.GrossCredits), days.Sum(r => r.PromotionalCredits), days.Sum(r => r.ProviderEarnings),
            days.Sum(r => r.PlatformFees), days.Sum(r => r.InputTokens), days.Sum(r => r.OutputTokens), days.Sum(r => r.ModelCostMicrocredits), days.Sum(r => r.LatencyMsSum),
            days.Sum(r => r.RunsBounded), days.Sum(r => r.RunsEstimated),
        ];
        await db.AddToCountersAsync(Days,
            rows.Select(r => (object[])[r.ProviderId, r.Day, r.ListingId, r.BuyerOrganizationId, .. Sums([r])]).ToList(), ct);
        await db.AddToCountersAsync(ListingDays,
            rows.GroupBy(r => (r.ProviderId, r.Day, r.ListingId)).Select(g => (object[])[g.Key.ProviderId, g.Key.Day, g.Key.ListingId, .. Sums(g)]).ToList(), ct);
        await db.AddToCountersAsync(CustomerMonths,
            rows.Where(r => r.BuyerOrganizationId != Guid.Empty).GroupBy(r => (r.ProviderId, Month: MonthOf(r.Day), r.BuyerOrganizationId))
                .Select(g => (object[])[g.Key.ProviderId, g.Key.Month, g.Key.BuyerOrganizationId, g.Sum(r => r.Runs), g.Sum(r => r.GrossCredits)]).ToList(), ct);
    }

    /// <summary>The first day of the day's calendar month, the key of <see cref="EconomicsCustomerMonth"/>.</summary>
    public static DateOnly MonthOf(DateOnly day) => new(day.Year, day.Month, 1);

    /// <summary>What each run's settle (or trial) operation moved, by run id, read from its transfers.</summary>
    async Task<Dictionary<Guid, Money>> MoneyAsync(List<Guid> runIds, CancellationToken ct)
    {
        var runByKey = runIds.SelectMany(id => SettleKeys(id).Select(key => (key, id))).ToDictionary(p => p.key, p => p.id);
        return (await MoneyAsync([.. runByKey.Keys], ct)).ToDictionary(m => runByKey[m.Key], m => m.Value);
    }

    /// <summary>What the ledger operations with these idempotency keys moved, by key, read from their transfers.</summary>
    async Task<Dictionary<string, Money>> MoneyAsync(List<string> keys, CancellationToken ct)
    {
        var result = new Dictionary<string, Money>();
        if (keys.Count == 0)
        {
            return result;
        }
        var operations = await db.LedgerOperations.AsNoTracking()
            .Where(o => keys.Contains(o.IdempotencyKey))
            .Select(o => new { o.Id, o.IdempotencyKey, o.Kind })
            .ToListAsync(ct);
        if (operations.Count == 0)
        {
            return result;
        }
        var operationIds = operations.Select(o => o.Id).ToList();
        var transfers = await (
            from t in db.LedgerTransfers.AsNoTracking()
            join debit in db.LedgerAccounts on t.DebitAccountId equals debit.Id
            join credit in db.LedgerAccounts on t.CreditAccountId equals credit.Id
            where operationIds.Contains(t.OperationId)
            select new { t.OperationId, t.Kind, t.Amount, Debit = debit.Kind, Credit = credit.Kind })
            .ToListAsync(ct);
        foreach (var operation in operations)
        {
            result[operation.IdempotencyKey] = MoneyOf(operation.Kind,
                transfers.Where(t => t.OperationId == operation.Id).Select(t => new MovedCredits(t.Kind, t.Debit, t.Credit, t.Amount)).ToList());
        }
        return result;
    }

    /// <summary>What an operation that paid for a run moved, from its transfers.</summary>
    static Money MoneyOf(OperationKind kind, IReadOnlyList<MovedCredits> moved)
    {
        var earnings = moved.Where(t => t.To == AccountKind.ProviderEarnings).Sum(t => t.Amount);
        var fees = moved.Where(t => t.To == AccountKind.PlatformFees).Sum(t => t.Amount);
        if (kind == OperationKind.Trial)
        {
            // A visitor's trial: the promotions account paid the whole price.
            return new Money(earnings + fees, earnings + fees, earnings, fees);
        }
        // A settle posts the wallets' reservations, a charge (a subscription's month) takes from the wallets directly:
        // either way what left the wallets is what the buyer spent, granted credits first.
        var posted = moved.Where(t => t.Kind is TransferKind.PostPending or TransferKind.Posted && t.From is AccountKind.WalletGranted or AccountKind.WalletPaid).ToList();
        return new Money(posted.Sum(t => t.Amount), posted.Where(t => t.From == AccountKind.WalletGranted).Sum(t => t.Amount), earnings, fees);
    }
}
