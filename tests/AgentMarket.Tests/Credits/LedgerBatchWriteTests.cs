using AgentMarket.Credits.Ledger;
using AgentMarket.Platform.Data;
using AgentMarket.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AgentMarket.Tests.Credits;

/// <summary>One batch of ledger commands is written as its rows say, whatever mix of commands it holds.</summary>
public class LedgerBatchWriteTests(AgentMarketApp app) : IClassFixture<AgentMarketApp>
{
    [Fact]
    public async Task ABatchWhoseFirstOperationHasNoExpiry_StoresTheReservationsExpiryExactly()
    {
        // On PostgreSQL a batch's operations go as one array per column; an array typed by its first value would take
        // the grant's missing expiry for a timestamp without time zone and refuse the reservation's UTC one.
        var organization = Guid.NewGuid();
        var expires = new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc);
        LedgerCommand[] commands =
        [
            new GrantCommand($"grant-{organization}", organization, 10, "starter", "starter credits"),
            new ReserveCommand($"reserve-{organization}", organization, 4, expires, "run", organization.ToString()),
        ];

        var (results, stored) = await app.InScopeAsync(null, async services =>
        {
            var ledger = services.GetRequiredService<LedgerWriter>();
            await ledger.EnsureAccountsAsync(commands);
            var db = services.GetRequiredService<AppDbContext>();
            await db.Database.OpenConnectionAsync();
            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                var applied = await ledger.ApplyWithinAsync(db.Database.GetDbConnection(), transaction.GetDbTransaction(), commands);
                await transaction.CommitAsync();
                return (applied, await db.LedgerOperations.AsNoTracking().Where(o => o.OrganizationId == organization).ToDictionaryAsync(o => o.Kind, o => o.ExpiresUtc));
            }
        });

        Assert.All(results, result => Assert.Equal(LedgerStatus.Ok, result.Status));
        Assert.Null(stored[OperationKind.Grant]);
        Assert.Equal(expires, stored[OperationKind.Reserve]);
    }
}
