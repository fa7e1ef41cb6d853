using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace AgentMarket.Platform.Data;

/// <summary>
/// A lock on one organization's share of some work, held until the current transaction ends, for checks that count rows
/// then insert one (a quota, a daily cap) and would otherwise both pass under concurrency. On PostgreSQL it is an
/// advisory lock in the caller's key space (so unrelated work of the same organization does not wait); SQLite needs
/// nothing more, as its transactions begin IMMEDIATE, holding the database's single write lock.
/// </summary>
static class OrganizationLocks
{
    public static async Task LockOrganizationAsync(this DatabaseFacade database, int keySpace, Guid organizationId, CancellationToken ct)
    {
        if (database.IsNpgsql())
        {
            var key = BitConverter.ToInt32(organizationId.ToByteArray(), 12);
            await database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({keySpace}, {key})", ct);
        }
    }
}
