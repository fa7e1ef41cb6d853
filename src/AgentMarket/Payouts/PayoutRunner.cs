using System.Globalization;
using AgentMarket.Credits.Ledger;
using AgentMarket.Payments;
using AgentMarket.Payments.Stripe;
using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AgentMarket.Payouts;

/// <summary>What one provider's payout run did for a period.</summary>
public enum PayoutOutcome
{
    Created,
    AlreadyExists,
    BelowMinimum,
}

public sealed record PayoutRunItem(Guid Provider, PayoutOutcome Outcome, Payout? Payout, long UnpaidCredits);

/// <summary>
/// The monthly payout run (SPEC §5): for each provider, the earnings credited to its ledger account before the
/// period's end and not paid out yet, when at least the provider's minimum, become one payout with a statement.
/// <list type="bullet">
/// <item>One payout per provider and period: a unique index claims it, so concurrent runs and nodes create one.</item>
/// <item>Never the same earnings twice: a payout pays what was earned up to its period's end minus every earlier payout.</item>
/// <item>Never more than earned: the ledger transfer (key <c>payout:{provider}:{period}</c>) refuses more than the
/// earnings account holds, and the amount is capped by it beforehand.</item>
/// </list>
/// Runs in a system scope (the job, or an operator).
/// </summary>
sealed class PayoutRunner(
    AppDbContext db, CreditLedger ledger, StripeClient stripe, IOptions<StripeOptions> stripeOptions, PayoutGate gate, PayoutEvents events, Gateway.RunProjector projector,
    TimeProvider clock, ILogger<PayoutRunner> logger)
{
    /// <summary>Parses <c>yyyy-MM</c>; null for anything else.</summary>
    public static DateOnly? ParsePeriod(string? period) =>
        DateOnly.TryParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) ? first : null;

    public static string PeriodOf(DateOnly first) => first.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary>
    /// What a run for the period ending at <paramref name="endUtc"/> (null: everything so far) pays the account's provider:
    /// the earnings credited before the end minus every earlier payout, capped by what the account holds. Zero or less
    /// when nothing is owed.
    /// </summary>
    public static async Task<long> PayableAsync(AppDbContext db, LedgerAccount account, DateTime? endUtc, CancellationToken ct)
    {
        var earned = await db.LedgerTransfers.AsNoTracking()
            .Where(t => t.CreditAccountId == account.Id && (endUtc == null || t.CreatedUtc < endUtc) && (t.Kind == TransferKind.Posted || t.Kind == TransferKind.PostPending))
            .SumAsync(t => t.Amount, ct);
        var paid = await db.Payouts.AsNoTracking().Where(p => p.ProviderId == account.OwnerId).SumAsync(p => p.Credits, ct);
        var available = account.CreditsPosted - account.DebitsPosted - account.DebitsPending;
        return Math.Min(earned - paid, available);
    }

    /// <summary>Pays every provider with enough unpaid earnings for the month starting <paramref name="first"/>, which must have ended.</summary>
    public async Task<IReadOnlyList<PayoutRunItem>> RunAsync(DateOnly first, CancellationToken ct)
    {
        await projector.CaughtUpAsync(ct); // the statements' lines come from the rollups of runs already settled
        var providers = await (
            from account in db.LedgerAccounts.AsNoTracking()
            join provider in db.Providers.AsNoTracking() on account.OwnerId equals provider.Id
            where account.Kind == AccountKind.ProviderEarnings && account.CreditsPosted > 0
            select new { provider.Id, provider.OrganizationId })
            .ToListAsync(ct);
        var items = new List<PayoutRunItem>();
        foreach (var provider in providers)
        {
            items.Add(await PayAsync(provider.Id, provider.OrganizationId, first, ct));
        }
        return items;
    }

    /// <summary>One provider's payout for the period; serialized per process so concurrent runs see each other's claims.</summary>
    public async Task<PayoutRunItem> PayAsync(Guid provider, Guid organization, DateOnly first, CancellationToken ct)
    {
        var period = PeriodOf(first);
        using var _ = await gate.EnterAsync(ct);
        if (await FindAsync(provider, period, ct) is { } existing)
        {
            await FinishAsync(existing, ct);
            return new PayoutRunItem(provider, PayoutOutcome.AlreadyExists, existing, 0);
        }

        var end = first.AddMonths(1);
        var endUtc = end.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var account = await db.LedgerAccounts.AsNoTracking().FirstOrDefaultAsync(a => a.Kind == AccountKind.ProviderEarnings && a.OwnerId == provider, ct);
        if (account is null)
        {
            return new PayoutRunItem(provider, PayoutOutcome.BelowMinimum, null, 0);
        }
        var amount = await PayableAsync(db, account, endUtc, ct);
        var settings = await db.PayoutSettings.AsNoTracking().FirstOrDefaultAsync(s => s.ProviderId == provider, ct);
        var minimum = settings?.MinimumCents ?? PayoutSettings.DefaultMinimumCents;
        if (amount <= 0 || amount < minimum)
        {
            return new PayoutRunItem(provider, PayoutOutcome.BelowMinimum, null, Math.Max(0, amount));
        }

        var previous = await db.Payouts.AsNoTracking().Where(p => p.ProviderId == provider).MaxAsync(p => (DateOnly?)p.StatementTo, ct);
        var from = previous?.AddDays(1) ?? await db.EconomicsDays.AsNoTracking().Where(d => d.ProviderId == provider).MinAsync(d => (DateOnly?)d.Day, ct) ?? first;
        var to = end.AddDays(-1);
        var payout = new Payout
        {
            ProviderId = provider, OrganizationId = organization, Period = period, StatementFrom = from, StatementTo = to,
            Credits = amount, AmountCents = amount, Method = settings?.Method ?? PayoutMethod.Manual, Status = PayoutStatus.Claimed,
            CreatedUtc = clock.GetUtcNow().UtcDateTime,
        };
        payout.Lines.AddRange(await StatementAsync(payout, ct));
        db.Payouts.Add(payout);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another node claimed this provider's period first; it pays it.
            db.Entry(payout).State = EntityState.Detached;
            foreach (var line in payout.Lines)
            {
                db.Entry(line).State = EntityState.Detached;
            }
            var claimed = await FindAsync(provider, period, ct) ?? throw new InvalidOperationException($"Payout {period} of provider {provider} could not be claimed.");
            return new PayoutRunItem(provider, PayoutOutcome.AlreadyExists, claimed, 0);
        }
        await FinishAsync(payout, ct);
        return new PayoutRunItem(provider, PayoutOutcome.Created, payout, amount);
    }

    /// <summary>
    /// Lines per agent from the daily rollups (runs and monthly subscription charges), and one line for the rest — earnings
    /// of earlier periods, payouts Stripe reversed, or earnings held back — so the lines add up to the payout.
    /// </summary>
    async Task<List<PayoutLine>> StatementAsync(Payout payout, CancellationToken ct)
    {
        var sums = await db.EconomicsDays.AsNoTracking()
            .Where(d => d.ProviderId == payout.ProviderId && d.Day >= payout.StatementFrom && d.Day <= payout.StatementTo)
            .GroupBy(d => d.ListingId)
            .Select(g => new { Listing = g.Key, Runs = g.Sum(d => d.Runs), Gross = g.Sum(d => d.GrossCredits), Net = g.Sum(d => d.ProviderEarnings) })
            .ToListAsync(ct);
        var ids = sums.Select(s => s.Listing).ToList();
        var names = await db.Listings.AsNoTracking().Where(l => ids.Contains(l.Id)).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        var lines = sums.Where(s => s.Runs > 0 || s.Net != 0).OrderByDescending(s => s.Net)
            .Select(s => new PayoutLine
            {
                PayoutId = payout.Id, ListingId = s.Listing, Description = names.GetValueOrDefault(s.Listing, "(removed agent)"),
                Runs = s.Runs, GrossCredits = s.Gross, CommissionCredits = s.Gross - s.Net, NetCredits = s.Net,
            })
            .ToList();
        var rest = payout.Credits - lines.Sum(l => l.NetCredits);
        if (rest != 0)
        {
            lines.Add(new PayoutLine
            {
                PayoutId = payout.Id,
                Description = rest > 0 ? "Other earnings (earlier periods, returned payouts)" : "Held back until the earnings are available",
                GrossCredits = Math.Max(0, rest), NetCredits = rest,
            });
        }
        return lines;
    }

    /// <summary>Moves the claimed earnings in the ledger, then sends a Stripe transfer when the provider is paid through Connect.</summary>
    public async Task FinishAsync(Payout payout, CancellationToken ct)
    {
        if (payout.Status == PayoutStatus.Claimed)
        {
            var moved = await ledger.PayoutAsync(payout.LedgerKey, payout.ProviderId, payout.Credits, $"Payout {payout.Period}", payout.Id.ToString(), ct);
            if (!moved.Succeeded)
            {
                // Nothing moved: the claim goes, and the next run computes the payout afresh.
                logger.LogError("Payout {Payout} of {Credits} credits was refused by the ledger: {Status}", payout.Id, payout.Credits, moved.Status);
                db.Payouts.Remove(payout);
                await db.SaveChangesAsync(ct);
                return;
            }
            payout.Status = PayoutStatus.Pending;
            await events.CreatedAsync(payout, ct);
            await db.SaveChangesAsync(ct);
        }
        if (payout.Status == PayoutStatus.Pending && payout.Method == PayoutMethod.StripeConnect)
        {
            await TransferAsync(payout, ct);
        }
    }

    async Task TransferAsync(Payout payout, CancellationToken ct)
    {
        var settings = await db.PayoutSettings.AsNoTracking().FirstOrDefaultAsync(s => s.ProviderId == payout.ProviderId, ct);
        if (!stripeOptions.Value.Enabled || settings?.StripeAccountId is not { } account || !settings.StripeTransfersEnabled)
        {
            payout.Note = "Waiting for the provider's Stripe account to accept transfers; retried at every payout run.";
            await db.SaveChangesAsync(ct);
            return;
        }
        try
        {
            var transfer = await stripe.CreateTransferAsync(payout.AmountCents, account, payout.Id, payout.LedgerKey, ct);
            payout.StripeTransferId = transfer;
            payout.Reference = transfer;
            payout.Status = PayoutStatus.Paid;
            payout.PaidUtc = clock.GetUtcNow().UtcDateTime;
            payout.Note = null;
            await events.PaidAsync(payout, ct);
        }
        catch (StripeApiException)
        {
            payout.Note = "Stripe could not make the transfer; retried at the next payout run.";
        }
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Sends Stripe transfers still owed for earlier periods (Stripe was down, or the account was not ready).</summary>
    public async Task RetryTransfersAsync(CancellationToken ct)
    {
        var owed = await db.Payouts.Where(p => (p.Status == PayoutStatus.Pending && p.Method == PayoutMethod.StripeConnect) || p.Status == PayoutStatus.Claimed)
            .OrderBy(p => p.CreatedUtc).Take(100).ToListAsync(ct);
        foreach (var payout in owed)
        {
            using var _ = await gate.EnterAsync(ct);
            await FinishAsync(payout, ct);
        }
    }

    Task<Payout?> FindAsync(Guid provider, string period, CancellationToken ct) =>
        db.Payouts.Include(p => p.Lines).FirstOrDefaultAsync(p => p.ProviderId == provider && p.Period == period, ct);
}

/// <summary>Serializes payout work in this process: concurrent runs of a period find the first one's claim instead of racing it.</summary>
sealed class PayoutGate : IDisposable
{
    readonly SemaphoreSlim _semaphore = new(1, 1);

    public async Task<IDisposable> EnterAsync(CancellationToken ct)
    {
        await _semaphore.WaitAsync(ct);
        return new Release(_semaphore);
    }

    public void Dispose() => _semaphore.Dispose();

    sealed class Release(SemaphoreSlim semaphore) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                semaphore.Release();
            }
        }
    }
}
