using AgentMarket.Platform.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace AgentMarket.Identity;

/// <summary>
/// The transaction of anything that changes an account's links or credentials (reset and email-change links, undo
/// links, its password, its address): such transactions for one account take turns, and all take the account's row
/// before any other, so two of them cannot each hold a row the other waits for (a deadlock on PostgreSQL) or each act on
/// what the other is replacing. SQLite's transactions take its one write lock when they begin; on PostgreSQL the user's
/// row is locked FOR NO KEY UPDATE, which still lets rows that reference it (links, sessions) be inserted meanwhile.
/// </summary>
static class AccountLock
{
    public static async Task<IDbContextTransaction> BeginAsync(AppDbContext db, Guid userId, CancellationToken ct)
    {
        var transaction = await db.Database.BeginTransactionAsync(ct);
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM users WHERE id = {userId} FOR NO KEY UPDATE", ct);
        }
        return transaction;
    }
}
