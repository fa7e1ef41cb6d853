using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace AgentMarket.Audit;

/// <summary>
/// Refuses any save that would change or delete an audit entry, whoever the caller. Bulk <c>ExecuteUpdate</c>/<c>ExecuteDelete</c>
/// bypass interceptors, which is why the table also carries database triggers (script 0013).
/// </summary>
sealed class AuditProtection : SaveChangesInterceptor
{
    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Check(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken ct = default)
    {
        Check(eventData.Context);
        return ValueTask.FromResult(result);
    }

    static void Check(DbContext? context)
    {
        if (context is null)
        {
            return;
        }
        foreach (var entry in context.ChangeTracker.Entries<AuditEntry>())
        {
            if (entry.State is EntityState.Modified or EntityState.Deleted)
            {
                throw new AuditLogIsAppendOnlyException();
            }
        }
    }
}

public sealed class AuditLogIsAppendOnlyException() : InvalidOperationException("The audit log is append-only: entries cannot be changed or deleted.");
