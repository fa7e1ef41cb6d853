using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;

namespace AgentMarket.Credits;

/// <summary>The transaction history users see (SPEC §3): a view of the organization's ledger operations, shared by the API and the credits page.</summary>
static class TransactionHistory
{
    /// <summary>The types the history shows; reservations and releases are not transactions.</summary>
    public static readonly string[] Types = ["purchase", "starter", "daily", "monthly", "spend", "refund", "payout", "adjustment"];

    /// <summary>Newest first; <paramref name="from"/> inclusive, <paramref name="to"/> exclusive.</summary>
    public static IQueryable<TransactionResponse> Query(AppDbContext db, Guid organization, string? type, DateTime? from, DateTime? to) =>
        db.LedgerOperations.AsNoTracking()
            .Where(o => o.OrganizationId == organization && Types.Contains(o.Code))
            .Where(o => type == null || o.Code == type)
            .Where(o => from == null || o.CreatedUtc >= from.Value.ToUniversalTime())
            .Where(o => to == null || o.CreatedUtc < to.Value.ToUniversalTime())
            .OrderByDescending(o => o.CreatedUtc).ThenByDescending(o => o.Id)
            .Select(o => new TransactionResponse(o.Id, o.Code, o.Amount, o.BalanceAfter, o.Description, o.ReferenceId, o.CreatedUtc));
}
