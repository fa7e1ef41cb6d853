using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits.Ledger;

public sealed record LedgerMismatch(Guid Account, AccountKind Kind, Guid Owner, string Field, long Stored, long FromTransfers);
public sealed record LedgerCheckResult(bool Ok, int Accounts, long Sum, long PendingSum, int ExpiredReservations, IReadOnlyList<LedgerMismatch> Mismatches);

/// <summary>
/// Recomputes every account's four sums from its transfers and compares them with the stored ones; checks that the
/// ledger sums to zero (posted and pending) and counts reservations past their expiry. Ok only when all agree.
/// </summary>
public sealed class LedgerCheck(AppDbContext db, TimeProvider clock)
{
    public async Task<LedgerCheckResult> RunAsync(CancellationToken ct)
    {
        var transfers = db.LedgerTransfers.AsNoTracking();
        var resolvedPending = transfers.Where(t => t.PendingId != null).Select(t => t.PendingId);
        var posted = transfers.Where(t => t.Kind == TransferKind.Posted || t.Kind == TransferKind.PostPending);
        var openPending = transfers.Where(t => t.Kind == TransferKind.Pending && !resolvedPending.Contains(t.Id));

        var debitsPosted = await Sums(posted.GroupBy(t => t.DebitAccountId), ct);
        var creditsPosted = await Sums(posted.GroupBy(t => t.CreditAccountId), ct);
        var debitsPending = await Sums(openPending.GroupBy(t => t.DebitAccountId), ct);
        var creditsPending = await Sums(openPending.GroupBy(t => t.CreditAccountId), ct);

        var accounts = await db.LedgerAccounts.AsNoTracking().ToListAsync(ct);
        var mismatches = new List<LedgerMismatch>();
        long sum = 0, pendingSum = 0;
        foreach (var a in accounts)
        {
            Compare(a, "debits_posted", a.DebitsPosted, debitsPosted.GetValueOrDefault(a.Id), mismatches);
            Compare(a, "credits_posted", a.CreditsPosted, creditsPosted.GetValueOrDefault(a.Id), mismatches);
            Compare(a, "debits_pending", a.DebitsPending, debitsPending.GetValueOrDefault(a.Id), mismatches);
            Compare(a, "credits_pending", a.CreditsPending, creditsPending.GetValueOrDefault(a.Id), mismatches);
            sum += a.CreditsPosted - a.DebitsPosted;
            pendingSum += a.CreditsPending - a.DebitsPending;
            if (a.MustNotOverdraw && a.CreditsPosted - a.DebitsPosted - a.DebitsPending < 0)
            {
                mismatches.Add(new LedgerMismatch(a.Id, a.Kind, a.OwnerId, "available", a.CreditsPosted - a.DebitsPosted - a.DebitsPending, 0));
            }
        }
        var now = clock.GetUtcNow().UtcDateTime;
        var expired = await db.LedgerOperations.CountAsync(o => o.Kind == OperationKind.Reserve && o.ResolvedUtc == null && o.ExpiresUtc < now, ct);
        return new LedgerCheckResult(sum == 0 && pendingSum == 0 && mismatches.Count == 0, accounts.Count, sum, pendingSum, expired, mismatches);
    }

    static async Task<Dictionary<Guid, long>> Sums(IQueryable<IGrouping<Guid, LedgerTransfer>> groups, CancellationToken ct) =>
        await groups.Select(g => new { g.Key, Sum = g.Sum(t => t.Amount) }).ToDictionaryAsync(x => x.Key, x => x.Sum, ct);

    static void Compare(LedgerAccount account, string field, long stored, long computed, List<LedgerMismatch> mismatches)
    {
        if (stored != computed)
        {
            mismatches.Add(new LedgerMismatch(account.Id, account.Kind, account.OwnerId, field, stored, computed));
        }
    }
}
